"""The synthetic city of SPEC §7: a seeded, streaming generator of the four input tables.

``generate(preset, seed, out)`` writes the files of the data contract (SPEC §1) plus a ground
truth; ``PRESETS`` lists the sizes (``tiny``, ``demo``, ``large``).
"""

from migrant_assets.synthetic.presets import PRESETS, Preset
from migrant_assets.synthetic.writer import GENERATOR_VERSION, generate

__all__ = ["GENERATOR_VERSION", "PRESETS", "Preset", "generate"]
