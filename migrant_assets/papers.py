"""The papers' published numbers that our results are printed beside (SPEC §6).

The one source of these numbers is ``migrant_assets/data/paper_reference.csv`` (a copy of
``shared/paper_reference.csv`` shipped in the package), read once by :func:`paper_reference`.
Columns: ``study`` (departure = paper 000, integration = paper 001), ``experiment``, ``row``,
``metric``, ``value``, ``source`` (the paper and its table or section). Every name below, and
:data:`~migrant_assets.models.reference.PAPER_F1` and
:data:`~migrant_assets.models.reference.PAPER_SHARE`, is computed from it. These are
literature values, never used in a computation of ours.
"""

from __future__ import annotations

import csv
import functools
import io
import re
from importlib.resources import files
from typing import NamedTuple


class PaperValue(NamedTuple):
    """One published number: a row of ``paper_reference.csv``."""

    study: str
    experiment: str
    row: str
    metric: str
    value: float
    source: str


@functools.cache
def paper_reference() -> tuple[PaperValue, ...]:
    """Every row of the shipped ``paper_reference.csv``, in file order (read once)."""
    text = (files("migrant_assets") / "data" / "paper_reference.csv").read_text(encoding="utf-8")
    return tuple(
        PaperValue(r["study"], r["experiment"], r["row"], r["metric"], float(r["value"]),
                   r["source"])
        for r in csv.DictReader(io.StringIO(text))
    )


def paper_value(study: str, experiment: str, row: str, metric: str) -> float:
    """The one published number of (study, experiment, row, metric); KeyError if absent."""
    for v in paper_reference():
        if (v.study, v.experiment, v.row, v.metric) == (study, experiment, row, metric):
            return v.value
    raise KeyError((study, experiment, row, metric))


def paper_metric(metric: str) -> dict[tuple[str, str], float]:
    """``{(experiment, row): value}`` of every row with ``metric``, in file order."""
    return {(v.experiment, v.row): v.value for v in paper_reference() if v.metric == metric}


def _group_id(row: str) -> str:
    """The paper's group name as our label: "locals" -> "local", "new migrants" ->
    "new_migrant"."""
    return row.removesuffix("s").replace(" ", "_")


def _group_sizes() -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for v in paper_reference():
        if v.experiment == "group_sizes" and v.metric == "count":
            out.setdefault(v.study, {})[_group_id(v.row)] = int(v.value)
    # The integration study first, as the report and the summary list the studies.
    return {s: out[s] for s in sorted(out, key=lambda s: s != "integration")}


#: Group sizes: integration study (001, Section 2.2) and departure study (000, Section 2.1).
GROUP_SIZES: dict[str, dict[str, int]] = _group_sizes()


def _paper_k() -> int:
    """The k of the departure paper's Tables 2–3: the ``_k<k>`` ending of their experiment ids
    in the CSV (one k for every such id)."""
    (k,) = {int(m.group(1)) for v in paper_reference()
            if (m := re.search(r"_k(\d+)$", v.experiment))}
    return k


#: The departure paper's Tables 1–3 and Figure 9 are at this k (000 Section 4; SPEC §6), read
#: from the CSV. This is the paper's k, not ours: our largest k is ``StudyConfig.calendar.k_max``.
PAPER_K: int = _paper_k()

#: The paper's housing price statistics, ``{metric: yuan/m²}`` (000 Section 2.2).
PAPER_HOUSING_PRICES: dict[str, float] = {
    v.metric: v.value for v in paper_reference()
    if (v.study, v.experiment, v.row) == ("departure", "housing_prices", "all estates")
}
