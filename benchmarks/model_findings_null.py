"""The model findings' false-positive rate on a null (issue 16): the same city with every user's
label shuffled, so no feature carries any information about the label.

    .venv/bin/python benchmarks/model_findings_null.py --duckdb WORK/migrant_assets.duckdb
        --config WORK/study.yaml [--seeds 1] [--workdir /tmp/null-findings]

``--duckdb`` is a file a ``migrant-assets demo`` run wrote (opened read-only, never changed).
For each seed the file is copied to ``--workdir``, the labels of the feature tables are permuted
among the users of each study (seeded; one label per user, every window of the user the same),
the model stage runs as the model assets run it (folds, ``departure_models`` for every k, the
curves, the transfer matrix, Tables 1 and 3, Figure 9, the integration study), and the model
findings are tested (:func:`~migrant_assets.reports.model_findings.model_findings`). Prints,
per seed, each finding's statistic and verdict, then how many of the tested hold (expected:
about 5% or fewer; a finding that holds on a null holds for a reason other than the paper's).
With ``--no-shuffle`` the labels are kept (a city generated null, ``generate --null``; then
``--seeds 1``). The copy is deleted afterwards unless ``--keep``. Seconds depend on the
machine (shared or not).
"""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

import duckdb
import pandas as pd

from migrant_assets.config import StudyConfig
from migrant_assets.db import connect, quote_identifier
from migrant_assets.models.data import assign_departure_folds, first_k_windows
from migrant_assets.models.departure import (
    curves_against_k,
    evaluate_window,
    feature_importance,
    table1_new_vs_locals,
    table3_feature_groups,
    transfer_matrix,
)
from migrant_assets.models.integration import settled_vs_locals, three_way
from migrant_assets.reports.model_findings import model_findings

FEATURE_TABLES = ("features_integration_weeks", "features_departure_weeks",
                  "features_first_k_days", "features_whole_period")


def shuffle_labels(con: duckdb.DuckDBPyConnection, seed: int) -> None:
    """Permute the users' labels within each study of every feature table (seeded)."""
    for study in ("integration", "departure"):
        users = con.execute(
            "SELECT user_id, any_value(label) AS label FROM features WHERE study = ? "
            "AND label IS NOT NULL GROUP BY user_id ORDER BY user_id", [study]).df()
        shuffled = users.assign(label=users["label"].sample(frac=1, random_state=seed)
                                .to_numpy())
        con.register("shuffled", shuffled)
        for table in FEATURE_TABLES:
            con.execute(f"UPDATE {quote_identifier(table)} AS f SET label = s.label "  # noqa: S608
                        "FROM shuffled s "
                        "WHERE f.user_id = s.user_id AND f.study = ?", [study])
        con.unregister("shuffled")


def run_models(con: duckdb.DuckDBPyConnection, cfg: StudyConfig) -> None:
    seed = cfg.models.seed
    assign_departure_folds(con, cfg, seed)
    for window in first_k_windows(con, cfg):
        evaluate_window(con, cfg, window, seed)
    curves_against_k(con)
    transfer_matrix(con, cfg, seed)
    table1_new_vs_locals(con, cfg, seed)
    table3_feature_groups(con, cfg, seed)
    feature_importance(con, cfg, seed)
    settled_vs_locals(con, cfg, seed)
    three_way(con, cfg, seed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duckdb", required=True)
    parser.add_argument("--config", required=True)
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--workdir", default="/tmp/null-findings")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--no-shuffle", action="store_true",
                        help="keep the labels: for a city that is already null (generate --null)")
    args = parser.parse_args()
    cfg = StudyConfig.load(args.config)
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    held = tested = 0
    pd.set_option("display.width", 200)
    for seed in range(1, args.seeds + 1):
        copy = work / f"null-{seed}.duckdb"
        shutil.copyfile(args.duckdb, copy)
        t = time.perf_counter()
        con = connect(str(copy))
        try:
            if not args.no_shuffle:
                shuffle_labels(con, seed)
            run_models(con, cfg)
            found = model_findings(con, cfg)
        finally:
            con.close()
        print(f"seed {seed} ({time.perf_counter() - t:.0f} s):")
        print(found[["finding_id", "compared", "z", "critical", "holds", "reason"]]
              .to_string(index=False))
        held += int(found["holds"].fillna(False).sum())
        tested += int(found["holds"].notna().sum())
        if not args.keep:
            copy.unlink()
            for extra in work.glob(f"null-{seed}.duckdb*"):
                extra.unlink()
    print(f"model findings holding on the null: {held} of {tested} tested "
          f"({held / max(tested, 1):.1%}) over {args.seeds} seed(s)")


if __name__ == "__main__":
    main()
