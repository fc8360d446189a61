"""The integration study's Table 2 (001 Section 4): the ordering of locals, settled and new
migrants per feature and the trajectory it implies, beside the paper's assignment.

- The ordering is of the group means in W2, the new migrants' first week, which 001 Section 3
  uses for the groups' "initial state"; Table 2's trajectories describe where new migrants
  start relative to settled migrants (their likely future) and locals. The trajectory is named
  by the group in the middle (``sql/reports/integration_trajectories.sql``):
  ``settled_between`` (ideal integration), ``locals_between`` (towards locals, then away),
  ``new_between`` (never towards locals).
- 001 Section 4 also asks that new migrants move towards settled migrants over W3–W4; the table
  reports it from W2 to W4 (``new_toward_settled``, and ``new_toward_locals``) as distances
  between group means, and ``min_abs_z``, the weaker of the two adjacent differences of the
  ordering (an ordering with ``min_abs_z`` < 1.96 is not established).
- Features: every integration-study feature (groups D, E, C, G) but the coordinates.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from migrant_assets.config import StudyConfig
from migrant_assets.db import run_sql
from migrant_assets.features import FEATURES
from migrant_assets.reports.trends import COORDINATE_FEATURES, require_current_trends

#: The trajectories of 001 Table 2, by the group whose mean lies between the other two.
TRAJECTORIES: dict[str, str] = {
    "settled_between": "new migrants move towards locals; settled migrants are in the middle",
    "locals_between": "new migrants move towards locals initially, then away from them",
    "new_between": "new migrants never move towards locals",
}

#: The paper's assignment of features to trajectories (001 Section 4, "Integration of New
#: Migrants", paragraphs 3–5; the slide deck 002 shows the same three panels).
#: Kept here, not in ``data/paper_reference.csv``: that file holds the papers' numbers (one value
#: per study, experiment, row and metric), and this is a categorical assignment it has no column
#: for (SPEC §6 names the papers' numbers only).
PAPER_TRAJECTORIES: dict[str, str] = {
    **dict.fromkeys(["same_sex", "local", "call_duration", "duration_variance",
                     "avg_moving_distance"], "settled_between"),
    **dict.fromkeys(["degree", "weighted_degree", "neighbor_degree", "clustering",
                     "similar_age", "reciprocal_call", "max_radius", "avg_radius",
                     "moving_distance"], "locals_between"),
    **dict.fromkeys(["province_diversity", "townsman"], "new_between"),
}


def trajectory_features() -> dict[str, str]:
    """Feature -> integration group (D, E, C, G) of the features Table 2 is computed for."""
    return {
        name: spec.integration_group for name, spec in FEATURES.items()
        if spec.integration_group is not None and name not in COORDINATE_FEATURES
    }


def integration_trajectories(con: duckdb.DuckDBPyConnection, cfg: StudyConfig) -> pd.DataFrame:
    """Write ``integration_trajectories`` (feature, feature_group, local_mean, settled_mean,
    new_mean, ordering, trajectory, min_abs_z, new_toward_settled, new_toward_locals,
    paper_trajectory, agrees, no_ordering_because, no_movement_because, feature_order) from
    ``group_feature_trends`` and return it. A feature with a group's W2 mean suppressed or
    absent has no ordering, and ``no_ordering_because`` says which."""
    require_current_trends(con)
    weeks = cfg.calendar.windows("integration_week")
    features = trajectory_features()
    params = {
        "features": list(features),
        "feature_groups": list(features.values()),
        "paper_features": list(PAPER_TRAJECTORIES),
        "paper_trajectories": list(PAPER_TRAJECTORIES.values()),
        "ref_window": weeks[1].window_id,
        "ref_label": weeks[1].label,
        "last_window": weeks[-1].window_id,
        "last_label": weeks[-1].label,
        "min_group_size": cfg.thresholds.min_group_size,
    }
    return run_sql(con, "reports/integration_trajectories.sql", params).df()
