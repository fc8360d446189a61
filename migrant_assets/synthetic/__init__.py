"""The synthetic city of SPEC §7: a seeded, streaming generator of the four input tables.

``generate(preset, seed, out, calls=None)`` writes the files of the data contract (SPEC §1) plus
a ground truth, block by block in bounded memory; ``PRESETS`` lists the sizes (``tiny``,
``demo``, ``large``, ``paper``), ``calls`` scales one to that many social calls a month.
"""

from migrant_assets.synthetic.presets import PRESETS, Preset
from migrant_assets.synthetic.writer import GENERATOR_VERSION, generate

__all__ = ["GENERATOR_VERSION", "PRESETS", "Preset", "generate"]
