"""The papers' numbers printed beside ours (literature values, never used in a computation),
read from the package's ``data/paper_reference.csv`` by :mod:`migrant_assets.papers`. Keys are
that file's ``(experiment, row)``, in its order (the report lists Tables 1–3 in this order)."""

from __future__ import annotations

from migrant_assets.papers import paper_metric

#: F1 of the positive class. Departure study: 000, Tables 1–3 (at the paper's k,
#: :data:`~migrant_assets.papers.PAPER_K`); integration study: 001, Section 5.1 (settled
#: migrants vs locals) and 5.2 (three-way, new migrants).
PAPER_F1: dict[tuple[str, str], float] = paper_metric("f1")

#: Share of each group classified as locals by the settled-vs-locals classifier (001, 5.1).
PAPER_SHARE: dict[tuple[str, str], float] = paper_metric("share")
