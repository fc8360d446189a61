"""Foreign-shaped operator extracts, written by the tests themselves (not the synthetic city's
layout): a small population with planted study groups, its calls as *logical* records, and
writers for the shapes of ``docs/your_own_data.md``. The logical records are what an independent
computation of the features starts from."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

#: The ``city`` of a study config over files of the synthetic city's Shanghai (a ``files``
#: source names its time zone and province).
SHANGHAI = {"province": "Shanghai", "timezone": "Asia/Shanghai"}


@dataclass
class Call:
    caller: str  # canonical number (no country prefix)
    callee: str
    start: datetime  # the city's naive local time
    duration: int | None  # seconds; None for a missed call kept as a contact
    caller_cell: str | None = None
    callee_cell: str | None = None
    event: str = "call"  # call | missed | sms


@dataclass
class Extract:
    """A population with planted groups and its calls over one study month."""

    month_start: date
    month_end: date
    province: str
    subscribers: list[dict]  # number, owner, age, sex, province, local, kind
    calls: list[Call]
    cells: list[tuple[str, float, float]]
    estates: list[tuple[str, float, float, float]]
    integration: dict[str, str]  # owner -> planted integration label
    departure: dict[str, str]  # owner -> planted departure label
    quiet_days: list[date] = field(default_factory=list)


def build_extract(
    seed: int, month_start: date, month_end: date, province: str, new_from: date,
    leave_after: date | None, quiet_days: list[date], bbox: tuple[float, float, float, float],
    with_cells: bool, number_base: int,
) -> Extract:
    """Locals and settled migrants call on every day but the quiet ones; new migrants from
    ``new_from``; leaving migrants from ``new_from`` to ``leave_after`` (none when it is None)."""
    rng = np.random.default_rng(seed)
    groups = ["local"] * 14 + ["settled"] * 12 + ["new"] * 10 + (["leaving"] * 7 if leave_after
                                                                 else [])
    owners = [f"{70_000_100 + 37 * i}" for i in range(len(groups))]  # customer ids: 8 digits
    subscribers, numbers_of = [], {}
    for i, (owner, group) in enumerate(zip(owners, groups, strict=True)):
        n_numbers = 2 if i % 9 == 0 else 1
        numbers_of[owner] = [str(number_base + 100 * i + j) for j in range(n_numbers)]
        home = province if group == "local" else str(rng.choice(["Anhui", "Henan", "Jiangsu"]))
        for number in numbers_of[owner]:
            subscribers.append(dict(number=number, owner=owner, age=int(rng.integers(18, 70)),
                                    sex=str(rng.choice(["M", "F"])), province=home, local=True,
                                    kind="regular"))
    externals = [str(number_base + 90_000 + i) for i in range(15)]
    lat0, lat1, lon0, lon1 = bbox
    cells = [(f"CELL-{i:03d}", float(rng.uniform(lat0 + 0.1 * (lat1 - lat0),
                                                   lat1 - 0.1 * (lat1 - lat0))),
              float(rng.uniform(lon0 + 0.1 * (lon1 - lon0), lon1 - 0.1 * (lon1 - lon0))))
             for i in range(12)] if with_cells else []
    estates = [(f"EST-{i}", float(rng.uniform(lat0, lat1)), float(rng.uniform(lon0, lon1)),
                float(rng.uniform(20_000, 90_000))) for i in range(25)] if with_cells else []
    group_of = dict(zip(owners, groups, strict=True))

    def pool(owner: str) -> list[str]:
        """Who an owner may call: never a party that is silent on a day the owner is not (so
        the planted activity, hence the labels, are exactly the groups')."""
        ok = {"local", "settled"} | ({group_of[owner]} - {"local", "settled"})
        return [n for o, ns in numbers_of.items() if group_of[o] in ok and o != owner
                for n in ns] + externals

    contacts = {o: [str(c) for c in rng.choice(pool(o), 5, replace=False)] for o in owners}
    home_cell = {o: int(rng.integers(0, 12)) for o in owners}
    days = [month_start + timedelta(d) for d in range((month_end - month_start).days + 1)]
    calls, seen = [], set()
    for day in days:
        if day in quiet_days:
            continue
        for owner, group in zip(owners, groups, strict=True):
            if group in ("new", "leaving") and day < new_from:
                continue
            if group == "leaving" and leave_after is not None and day > leave_after:
                continue
            for _ in range(int(rng.integers(1, 4))):
                mine = str(rng.choice(numbers_of[owner]))
                other = str(rng.choice(contacts[owner]))
                start = datetime(day.year, day.month, day.day, int(rng.integers(0, 24)),
                                 int(rng.integers(0, 60)), int(rng.integers(0, 60)))
                a, b = (mine, other) if rng.random() < 0.7 else (other, mine)
                if (a, b, start) in seen:
                    continue
                seen.add((a, b, start))
                roll = rng.random()
                event = "missed" if roll < 0.05 else "call"
                duration = None if event == "missed" else int(rng.integers(5, 900))
                cell = f"CELL-{(home_cell[owner] + int(rng.integers(0, 3))) % 12:03d}" \
                    if with_cells else None
                external = other in externals
                ca, cb = (cell, None if external else cell) if a == mine else \
                    (None if external else cell, cell)
                calls.append(Call(a, b, start, duration, ca, cb, event))
    integration = {o: {"local": "local", "settled": "settled_migrant", "new": "new_migrant"}[g]
                   for o, g in zip(owners, groups, strict=True) if g != "leaving"}
    departure = {o: {"local": "local", "settled": None, "new": "staying_migrant",
                     "leaving": "leaving_migrant"}[g]
                 for o, g in zip(owners, groups, strict=True)}
    departure = {o: g for o, g in departure.items() if g is not None}
    return Extract(month_start, month_end, province, subscribers, calls, cells, estates,
                   integration, departure, quiet_days)


def epoch_seconds(local: datetime, zone: str) -> int:
    """Unix seconds of a naive local time of ``zone``."""
    return int(local.replace(tzinfo=ZoneInfo(zone)).timestamp())


def utc(local: datetime, zone: str) -> datetime:
    """The UTC instant (aware) of a naive local time of ``zone``."""
    return local.replace(tzinfo=ZoneInfo(zone)).astimezone(ZoneInfo("UTC"))
