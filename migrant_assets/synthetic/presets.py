"""Sizes and knobs of the synthetic city (SPEC §7): one frozen :class:`Preset` per scale.

``proportions="paper"`` keeps a preset's number of studied owners but splits it as the papers'
1.7M locals : 1.0M settled migrants : 22K new migrants; the presets themselves over-represent new
migrants so that the departure study has a few hundred leaving migrants to learn from.

``Preset.scaled(calls)`` is the ``--calls N`` knob: every head count scales with the month's
social calls (cells and estates are the city's, they do not). :func:`plan_blocks` cuts a city
into blocks of at most ``block_calls`` social calls, each a community generated on its own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Literal

#: Social calls per block: a block's people, ties and calls are in memory at once (docs).
BLOCK_CALLS = 2_500_000
#: People per block at most (a call's sort key packs two people of a block into 38 bits).
MAX_BLOCK_PERSONS = 2**19
#: Head counts that scale with ``calls`` and are shared among blocks.
COUNTS = ("n_local", "n_settled", "n_new", "n_other", "n_external", "n_delivery",
          "n_customer_service", "n_fraud", "n_unflagged_service", "calls_per_month")

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

    def scaled(self, calls: int | None) -> Preset:
        """This preset with ``calls`` social calls a month and every head count scaled by the
        same ratio (at least one of each kind the preset has); ``None`` keeps it as it is."""
        if calls is None or calls == self.calls_per_month:
            return self
        if calls < 1_000:
            raise ValueError(f"calls must be at least 1000, not {calls}")
        f = calls / self.calls_per_month
        counts = {k: max(1, round(getattr(self, k) * f)) if getattr(self, k) else 0
                  for k in COUNTS}
        return replace(self, **counts | {"calls_per_month": calls})

    @property
    def n_owners(self) -> int:
        return (self.n_local + self.n_settled + self.n_new + self.n_other + self.n_delivery
                + self.n_customer_service + self.n_fraud + self.n_unflagged_service)


@dataclass(frozen=True)
class Block:
    """One community of the city: its own head counts, and where its owners and external
    parties start in the city's numbering (numbers and owner ids are drawn from that)."""

    index: int
    params: Preset
    owner_offset: int
    external_offset: int


def plan_blocks(city: Preset, block_calls: int = BLOCK_CALLS) -> list[Block]:
    """Cut ``city`` into ``ceil(calls / block_calls)`` blocks (more if a block would hold over
    :data:`MAX_BLOCK_PERSONS` people) with near-equal shares of every head count; the shares add
    up to the city's counts exactly."""
    persons = city.n_owners + city.n_external
    n = max(1, math.ceil(city.calls_per_month / block_calls),
            math.ceil(persons / MAX_BLOCK_PERSONS))
    blocks, owners, externals = [], 0, 0
    for b in range(n):
        share = {k: getattr(city, k) * (b + 1) // n - getattr(city, k) * b // n for k in COUNTS}
        share["n_external"] = max(1, share["n_external"])  # a new migrant's relative needs one
        params = replace(city, **share)
        blocks.append(Block(b, params, owners, externals))
        owners += params.n_owners
        externals += params.n_external
    return blocks


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
    # The papers' month: 698M calls between about 54M numbers; studied owners as the papers'
    # groups (1.8M locals and ~36K new migrants in paper 000, 1.0M settled in paper 001), 3M
    # owners outside the studies, the rest other operators' numbers; ~15K high-degree numbers.
    "paper": Preset(
        name="paper",
        n_local=1_800_000,
        n_settled=1_000_000,
        n_new=36_000,
        n_other=3_000_000,
        n_external=48_150_000,
        calls_per_month=698_000_000,
        n_cells=40_000,
        n_estates=20_000,
        n_delivery=4_000,
        n_customer_service=4_000,
        n_fraud=4_000,
        n_unflagged_service=3_000,
        service_customers=(300, 2_000),
    ),
}
