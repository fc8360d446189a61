"""The papers' qualitative findings (001 Sections 3–4, 000 Section 3), each tested on our data.

A finding is one or more pairwise comparisons of a feature's means (``sql/reports/findings.sql``):

- ``difference``: group a vs group b in one window (independent groups, se of the difference
  sqrt(se_a² + se_b²));
- ``order``: three groups in the stated order, i.e. the two adjacent differences;
- ``extreme``: the group is the largest (``>``) or smallest (``<``) of the three, i.e. compared
  with each other group;
- ``change``: one group from window a to window b, paired on the users present in both (mean
  and se of the per-user differences; the groups' means alone would ignore that the two weeks
  are the same people).

z = difference / se; a finding holds when every comparison has the paper's sign and |z| ≥ 1.96
(``critical`` is ±1.96 with the paper's sign); the table reports its weakest comparison
(smallest z in the paper's direction). A comparison of a suppressed mean (fewer than
``min_group_size`` users or pairs), or of values that do not vary (se = 0), is untested and
``holds`` is null.

Weeks: the integration findings use W2 (001 Section 3 describes W2) unless they state a change;
the departure findings use the week the paper names and week B otherwise (the last week with
leaving migrants, whose Figures 3, 5–7 show weeks 1–3 = A–C). D11's "new migrants" are the
staying migrants (as D21 and D22 say).

The model findings (000 §4, 001 §5: classifier and feature-set rankings, Figures 8–9, the
ablation, the shares classified as locals, the three-way F1) follow in the same table with
``kind = 'model'``; their tests are in :mod:`migrant_assets.reports.model_findings`.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise
from typing import Literal

import duckdb
import pandas as pd

from migrant_assets.config import StudyConfig
from migrant_assets.db import quote, registered, run_sql
from migrant_assets.features import ensure_schema as ensure_feature_schema
from migrant_assets.reports.model_findings import Z_CRITICAL, model_findings
from migrant_assets.reports.plots import STUDY_GROUPS
from migrant_assets.reports.trends import TREND_FAMILY, require_current_trends

LOCAL, SETTLED, NEW = STUDY_GROUPS["integration"]
_, STAYING, LEAVING = STUDY_GROUPS["departure"]


@dataclass(frozen=True)
class Finding:
    """One statement of a paper, and the test of it (module docstring)."""

    finding_id: str
    study: Literal["integration", "departure"]
    paper_section: str
    statement: str
    test: Literal["difference", "order", "extreme", "change"]
    feature: str
    groups: tuple[str, ...]  # difference: (a, b); order: 3 groups; extreme, change: (a,)
    windows: tuple[str, ...]  # the papers' week labels; change: (from, to)
    direction: Literal[">", "<"]

    def comparisons(self) -> list[tuple[str, str, str, str]]:
        """(label_a, window_a, label_b, window_b) of each comparison; value_a - value_b is
        expected to have the sign of ``direction``."""
        w = self.windows[0]
        if self.test == "difference":
            return [(self.groups[0], w, self.groups[1], w)]
        if self.test == "order":
            return [(a, w, b, w) for a, b in pairwise(self.groups)]
        if self.test == "extreme":
            g = self.groups[0]
            return [(g, w, other, w) for other in STUDY_GROUPS[self.study] if other != g]
        return [(self.groups[0], self.windows[0], self.groups[0], self.windows[1])]

    @property
    def groups_text(self) -> str:
        if self.test == "extreme":
            others = [g for g in STUDY_GROUPS[self.study] if g != self.groups[0]]
            return f"{self.groups[0]} {self.direction} {', '.join(others)}"
        if self.test == "change":
            return self.groups[0]
        return f" {self.direction} ".join(self.groups)

    @property
    def window_text(self) -> str:
        if self.test == "change":
            return f"{self.windows[0]} {self.direction} {self.windows[1]}"
        return self.windows[0]


_I3 = "001 §3"
_D31, _D32, _D33, _D34 = "000 §3.1", "000 §3.2", "000 §3.3", "000 §3.4"

#: The findings tested, in the papers' order.
FINDINGS: tuple[Finding, ...] = (
    Finding("I01", "integration", f"{_I3} Homophily in sex and age (Fig. 2(a))",
            "Locals have the largest fraction of same-sex contacts.",
            "extreme", "same_sex", (LOCAL,), ("W2",), ">"),
    Finding("I02", "integration", f"{_I3} Homophily in sex and age (Fig. 2(a))",
            "Locals are less likely than settled migrants to have contacts of similar age, "
            "but more likely than new migrants.",
            "order", "similar_age", (SETTLED, LOCAL, NEW), ("W2",), ">"),
    Finding("I03", "integration", f"{_I3} Birthplaces (Fig. 2(a))",
            "Most of a local's contacts are locals; the fraction is much lower for settled "
            "migrants and the lowest for new migrants.",
            "order", "local", (LOCAL, SETTLED, NEW), ("W2",), ">"),
    Finding("I04", "integration", f"{_I3} Birthplaces (Fig. 2(a))",
            "Settled migrants have an even higher fraction of townsmen among their contacts "
            "than new migrants.",
            "difference", "townsman", (SETTLED, NEW), ("W2",), ">"),
    Finding("I05", "integration", f"{_I3} Ego-network characteristics (Fig. 2(b))",
            "New migrants have the smallest degree; settled migrants the largest, larger than "
            "locals.",
            "order", "degree", (SETTLED, LOCAL, NEW), ("W2",), ">"),
    Finding("I06", "integration", f"{_I3} Ego-network characteristics (Fig. 2(b))",
            "New migrants have the smallest weighted degree.",
            "extreme", "weighted_degree", (NEW,), ("W2",), "<"),
    Finding("I07", "integration", f"{_I3} Ego-network characteristics (Fig. 2(b))",
            "Neighbours of settled migrants have the largest average degree, neighbours of new "
            "migrants the smallest.",
            "order", "neighbor_degree", (SETTLED, LOCAL, NEW), ("W2",), ">"),
    Finding("I08", "integration", f"{_I3} Ego-network characteristics (Fig. 2(b))",
            "New migrants have the largest clustering coefficient, settled migrants the lowest.",
            "order", "clustering", (NEW, LOCAL, SETTLED), ("W2",), ">"),
    Finding("I09", "integration", f"{_I3} Calling behavior (Fig. 2(c))",
            "Locals and settled migrants have much longer average calls than new migrants.",
            "extreme", "call_duration", (NEW,), ("W2",), "<"),
    Finding("I10", "integration", f"{_I3} Calling behavior (Fig. 2(c))",
            "Settled migrants have the most diverse contacts by birth province, locals the "
            "least.",
            "order", "province_diversity", (SETTLED, NEW, LOCAL), ("W2",), ">"),
    Finding("I11", "integration", f"{_I3} Calling behavior (Fig. 2(c))",
            "The fraction of reciprocal calls is the lowest for new migrants.",
            "extreme", "reciprocal_call", (NEW,), ("W2",), "<"),
    Finding("I12", "integration", f"{_I3} Geographical patterns (Fig. 2(d))",
            "Settled migrants have the largest max radius.",
            "extreme", "max_radius", (SETTLED,), ("W2",), ">"),
    Finding("I13", "integration", f"{_I3} Geographical patterns (Fig. 2(d))",
            "Settled migrants have the largest average radius.",
            "extreme", "avg_radius", (SETTLED,), ("W2",), ">"),
    Finding("I14", "integration", f"{_I3} Geographical patterns (Fig. 2(d))",
            "Locals move the longest distance between calls on average, new migrants the "
            "shortest.",
            "order", "avg_moving_distance", (LOCAL, SETTLED, NEW), ("W2",), ">"),
    Finding("I15", "integration", "001 §4 Integration of new migrants (Fig. 3)",
            "New migrants' degree grows from W2 to W4, towards settled migrants'.",
            "change", "degree", (NEW,), ("W2", "W4"), "<"),
    Finding("I16", "integration", f"{_I3} Birthplaces; 001 §4 (Fig. 3(j))",
            "New migrants get to know more townsmen as they integrate (W2 to W4).",
            "change", "townsman", (NEW,), ("W2", "W4"), "<"),
    Finding("D01", "departure", f"{_D31} Demographics (Fig. 3(a))",
            "Leaving migrants have a larger fraction of similar-aged contacts than locals, "
            "staying migrants a smaller one.",
            "order", "similar_age", (LEAVING, LOCAL, STAYING), ("B",), ">"),
    Finding("D02", "departure", f"{_D31} Demographics (Fig. 3(b))",
            "Locals have the largest fraction of same-sex contacts.",
            "extreme", "same_sex", (LOCAL,), ("B",), ">"),
    Finding("D03", "departure", f"{_D31} Demographics (Fig. 3(b))",
            "In the first week, leaving migrants have a stronger homophily in sex than staying "
            "migrants.",
            "difference", "same_sex", (LEAVING, STAYING), ("A",), ">"),
    Finding("D04", "departure", f"{_D31} Degree (Fig. 3(c))",
            "Locals have the largest degree.",
            "extreme", "degree", (LOCAL,), ("B",), ">"),
    Finding("D05", "departure", f"{_D31} Degree (Fig. 3(c))",
            "Staying migrants have significantly more contacts than leaving migrants in the "
            "second week.",
            "difference", "degree", (STAYING, LEAVING), ("B",), ">"),
    Finding("D06", "departure", f"{_D31} Degree (Fig. 3(d))",
            "In the second week the contacts of staying migrants are better connected than "
            "those of leaving migrants.",
            "difference", "neighbor_degree", (STAYING, LEAVING), ("B",), ">"),
    Finding("D07", "departure", f"{_D31} Diversity of connections (Fig. 3(e))",
            "Leaving migrants rely on people from the same hometown much more than staying "
            "migrants.",
            "difference", "townsman", (LEAVING, STAYING), ("B",), ">"),
    Finding("D08", "departure", f"{_D31} Diversity of connections (Fig. 3(f))",
            "Staying migrants have the most diverse contacts by birth province, leaving "
            "migrants the least.",
            "order", "province_diversity", (STAYING, LOCAL, LEAVING), ("B",), ">"),
    Finding("D09", "departure", f"{_D31} Diversity of connections (Fig. 3(g))",
            "Leaving migrants have the largest clustering coefficient, locals the lowest.",
            "order", "clustering", (LEAVING, STAYING, LOCAL), ("B",), ">"),
    Finding("D10", "departure", f"{_D31} Diversity of connections (Fig. 3(h))",
            "Staying migrants spread their calls more evenly over their contacts than leaving "
            "migrants (communication diversity).",
            "difference", "communication_diversity", (STAYING, LEAVING), ("B",), ">"),
    Finding("D11", "departure", f"{_D32} Call behavior (Fig. 5(a))",
            "The excess of out-calls over in-calls is larger for new migrants than for locals.",
            "difference", "out_minus_in", (STAYING, LOCAL), ("B",), ">"),
    Finding("D12", "departure", f"{_D32} Call behavior (Fig. 5(a))",
            "Staying migrants make more out-calls (relative to in-calls) as time grows.",
            "change", "out_minus_in", (STAYING,), ("A", "B"), "<"),
    Finding("D13", "departure", f"{_D32} Call behavior (Fig. 5(a))",
            "Leaving migrants make fewer out-calls (relative to in-calls) as time grows.",
            "change", "out_minus_in", (LEAVING,), ("A", "B"), ">"),
    Finding("D14", "departure", f"{_D32} Call behavior (Fig. 5(b))",
            "Staying migrants make much longer calls than locals and leaving migrants.",
            "extreme", "call_duration", (STAYING,), ("B",), ">"),
    Finding("D15", "departure", f"{_D32} Call behavior (Fig. 5(c))",
            "Locals make longer calls to other locals than new migrants do.",
            "extreme", "local_call_duration", (LOCAL,), ("B",), ">"),
    Finding("D16", "departure", f"{_D32} Call behavior (Fig. 5(d))",
            "Locals have the largest fraction of reciprocal calls, staying migrants a lower one "
            "and leaving migrants the lowest.",
            "order", "reciprocal_call", (LOCAL, STAYING, LEAVING), ("B",), ">"),
    Finding("D17", "departure", f"{_D32} Call behavior (Fig. 5(d))",
            "In week 2 staying migrants have more reciprocal relationships than in week 1.",
            "change", "reciprocal_call", (STAYING,), ("A", "B"), "<"),
    Finding("D18", "departure", f"{_D32} Call behavior (Fig. 5(d))",
            "In week 2 leaving migrants' fraction of reciprocal calls decreases.",
            "change", "reciprocal_call", (LEAVING,), ("A", "B"), ">"),
    Finding("D19", "departure", f"{_D33} Geographical patterns (Fig. 6(b))",
            "Locals have a much larger active area (average radius) than new migrants.",
            "extreme", "avg_radius", (LOCAL,), ("B",), ">"),
    Finding("D20", "departure", f"{_D33} Geographical patterns (Fig. 6)",
            "Locals move the most distance between calls on average.",
            "extreme", "avg_moving_distance", (LOCAL,), ("B",), ">"),
    Finding("D21", "departure", f"{_D33} Geographical patterns (Fig. 6(b))",
            "Staying migrants expand their active areas over time (average radius, week A to "
            "C).",
            "change", "avg_radius", (STAYING,), ("A", "C"), "<"),
    Finding("D22", "departure", f"{_D33} Geographical patterns (Fig. 6(d))",
            "New migrants' home–work distance becomes smaller over time (staying migrants, "
            "week A to C).",
            "change", "home_work_distance", (STAYING,), ("A", "C"), ">"),
    Finding("D23", "departure", f"{_D34} Housing price information (Fig. 7(a))",
            "Locals are active in the least expensive areas, leaving migrants in the most "
            "expensive ones.",
            "order", "avg_price", (LEAVING, STAYING, LOCAL), ("B",), ">"),
    Finding("D24", "departure", f"{_D34} Housing price information (Fig. 7(a))",
            "Staying migrants' average housing price drops significantly from the first week "
            "to the second.",
            "change", "avg_price", (STAYING,), ("A", "B"), ">"),
    Finding("D25", "departure", f"{_D34} Housing price information",
            "Similar results hold for the average housing price of a person's home.",
            "order", "home_avg_price", (LEAVING, STAYING, LOCAL), ("B",), ">"),
    Finding("D26", "departure", f"{_D34} Housing price information (Fig. 7(b))",
            "By homophily, the housing prices of one's friends' areas follow the same order.",
            "order", "neighbor_avg_price", (LEAVING, STAYING, LOCAL), ("B",), ">"),
)


def _frames(cfg: StudyConfig) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The finding specs and their comparisons, with the weeks' window ids."""
    window_id = {
        (study, w.label): w.window_id
        for study, family in TREND_FAMILY.items() for w in cfg.calendar.windows(family)
    }
    specs, comparisons = [], []
    for order, f in enumerate(FINDINGS):
        specs.append({
            "finding_id": f.finding_id, "study": f.study, "paper_section": f.paper_section,
            "statement": f.statement, "test": f.test, "feature": f.feature,
            "groups": f.groups_text, "window": f.window_text, "finding_order": order,
        })
        for la, wa, lb, wb in f.comparisons():
            comparisons.append({
                "finding_id": f.finding_id, "study": f.study, "feature": f.feature,
                "comparison": f"{la} {wa} vs {lb} {wb}",
                "label_a": la, "window_a": window_id[f.study, wa],
                "label_b": lb, "window_b": window_id[f.study, wb],
                "sign": 1 if f.direction == ">" else -1, "paired": f.test == "change",
            })
    return pd.DataFrame(specs), pd.DataFrame(comparisons)


def findings(con: duckdb.DuckDBPyConnection, cfg: StudyConfig) -> pd.DataFrame:
    """Write ``findings`` (finding_id, study, paper_section, statement, test, feature, groups,
    window, compared, value_a, value_b, difference, se, z, holds, kind, method, critical,
    replicates, reason, finding_order) from ``group_feature_trends`` and ``features`` (the
    group-means findings) and the stored classifier results (the model findings,
    :mod:`~migrant_assets.reports.model_findings`), and return it without ``finding_order``."""
    require_current_trends(con)
    specs, comparisons = _frames(cfg)
    models = model_findings(con, cfg)
    models = models.assign(model_order=range(len(models)))  # their order, stated
    stand_ins, untested = _stand_ins(con)
    with registered(con, finding_specs=specs, finding_comparisons=comparisons,
                    model_finding_rows=models, **stand_ins):
        return run_sql(con, "reports/findings.sql", {
            "min_group_size": cfg.thresholds.min_group_size, "z_critical": Z_CRITICAL,
            "untested_reason": untested,
        }).df()


#: The tables (or views) the group-means findings read.
_GROUP_MEANS_INPUTS = ("group_feature_trends", "features")


def _stand_ins(con: duckdb.DuckDBPyConnection) -> tuple[dict[str, pd.DataFrame], str | None]:
    """Empty stand-ins (the same columns) for the group-means findings' inputs missing from
    the file (a run before ``findings`` failed), and the reason those findings are then
    untested; the model findings are tested as usual."""
    missing = [t for t in _GROUP_MEANS_INPUTS
               if not run_sql(con, "reports/relation_exists.sql", {"name": t}).fetchall()[0][0]]
    if not missing:
        return {}, None
    with duckdb.connect() as scratch:  # the owners' DDL, in memory: their columns and types
        ensure_feature_schema(scratch)
        run_sql(scratch, "reports/group_feature_trends_table.sql")
        frames = {t: scratch.execute(f"SELECT * FROM {quote(t)}").df() for t in missing}
    return frames, (f"{' and '.join(missing)} not materialized (a run before findings failed): "
                    "no group mean to compare")
