"""Sizes and knobs of the synthetic city (SPEC §7): one frozen :class:`Preset` per scale.

``proportions="paper"`` keeps a preset's number of studied owners but splits it as the papers'
1.7M locals : 1.0M settled migrants : 22K new migrants; the presets themselves over-represent new
migrants so that the departure study has a few hundred leaving migrants to learn from.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

#: The integration study's group sizes (paper 001, §2).
PAPER_PROPORTIONS = {"local": 1_700_000, "settled_migrant": 1_000_000, "new_migrant": 22_000}


@dataclass(frozen=True)
class Preset:
    """Size of the city and the share of planted special cases; behaviour is in ``behaviour``."""

    name: str
    n_local: int
    n_settled: int
    n_new: int
    n_other: int  # short visitors and owners of non-local numbers only (not studied)
    n_external: int  # numbers of other operators (no attributes, no cell)
    calls_per_month: int  # target of social calls; service calls come on top
    n_cells: int
    n_estates: int
    n_delivery: int
    n_customer_service: int
    n_fraud: int
    n_unflagged_service: int  # high-degree numbers without a user_type flag (SPEC §3 filter)
    service_customers: tuple[int, int]  # distinct parties each service number calls, min..max
    share_arriving_in_a: float = 0.8  # new migrants arriving 09-05..09-11 (rest 09-12..09-16)
    leave_share: float = 0.04  # of the new migrants arriving in window A
    two_number_share: float = 0.04
    nonlocal_second_share: float = 0.5  # migrants' second numbers that are not local
    quiet_share: float = 0.05  # locals/settled silent for a week or more
    missing_share: float = 0.03  # per attribute (age, sex, birth province)
    malformed_share: float = 0.003  # of call rows

    def with_proportions(self, proportions: Literal["preset", "paper"]) -> Preset:
        """This preset, or its studied owners re-split in the papers' proportions."""
        if proportions == "preset":
            return self
        if proportions != "paper":
            raise ValueError(f"proportions must be 'preset' or 'paper', not {proportions!r}")
        total = self.n_local + self.n_settled + self.n_new
        paper_total = sum(PAPER_PROPORTIONS.values())
        n_new = max(1, round(total * PAPER_PROPORTIONS["new_migrant"] / paper_total))
        n_settled = round(total * PAPER_PROPORTIONS["settled_migrant"] / paper_total)
        return replace(self, n_local=total - n_new - n_settled, n_settled=n_settled, n_new=n_new)


PRESETS: dict[str, Preset] = {
    "tiny": Preset(
        name="tiny",
        n_local=1000,
        n_settled=700,
        n_new=300,
        n_other=120,
        n_external=1800,
        calls_per_month=45_000,
        n_cells=300,
        n_estates=2000,
        n_delivery=1,
        n_customer_service=1,
        n_fraud=1,
        n_unflagged_service=1,
        service_customers=(700, 900),
    ),
    "demo": Preset(
        name="demo",
        n_local=28_000,
        n_settled=20_000,
        n_new=9_400,
        n_other=2_500,
        n_external=45_000,
        calls_per_month=2_500_000,
        n_cells=4_000,
        n_estates=20_000,
        n_delivery=4,
        n_customer_service=4,
        n_fraud=4,
        n_unflagged_service=3,
        service_customers=(1_500, 4_000),
    ),
    "large": Preset(
        name="large",
        n_local=110_000,
        n_settled=75_000,
        n_new=12_500,
        n_other=9_000,
        n_external=180_000,
        calls_per_month=10_500_000,
        n_cells=12_000,
        n_estates=20_000,
        n_delivery=8,
        n_customer_service=8,
        n_fraud=8,
        n_unflagged_service=6,
        service_customers=(2_000, 6_000),
    ),
}
