"""What the model assets' checks judge (SPEC §6), from the stored result tables; the verdicts are
declared in ``defs/models.py``. A check with nothing to judge says so (``judged`` 0 and a
reason), never passes."""

from __future__ import annotations

from collections.abc import Sequence

import duckdb

from migrant_assets.db import run_sql
from migrant_assets.features import CheckOutcome
from migrant_assets.models.classifiers import RANDOM_FOREST
from migrant_assets.models.integration import SETTLED_VS_LOCALS
from migrant_assets.models.store import beats_random_guess, ensure_schema, split_violations

#: What each check asserts (the checks' descriptions).
CHECKS: dict[str, str] = {
    "beats_random_guess":
        "Every classifier's F1 is above its random-guess F1 (the prevalence); rows with fewer "
        "than checks.min_positives positive test users and the ablation steps of the "
        "integration study are listed, not judged.",
    "no_user_in_train_and_test":
        "No user is in both the train and the test users of any split.",
    "f1_rises_with_k":
        "The random forest's F1 at the largest k evaluated is not below its F1 at the smallest; "
        "a k with fewer than checks.min_positives positive test users is listed, not judged.",
}


def no_user_in_train_and_test(con: duckdb.DuckDBPyConnection, experiments: Sequence[str],
                              window_ids: Sequence[str] = ()) -> CheckOutcome:
    """No (experiment, window, split) of ``experiments`` (and ``window_ids``; empty: all) has a
    user both trained on and tested; nothing to judge when no split was made."""
    violations, judged = split_violations(con, experiments, window_ids)
    return CheckOutcome(
        passed=judged > 0 and violations == 0, judged=judged,
        reason=None if judged else "no split was made: every experiment was skipped",
        metadata={"users_in_train_and_test": violations, "memberships_judged": judged})


def random_guess_beaten(con: duckdb.DuckDBPyConnection, experiments: Sequence[str],
                        min_positives: int,
                        window_ids: Sequence[str] | None = None) -> CheckOutcome:
    """Every computed classifier row of ``experiments`` (and ``window_ids``; None: all) has an
    F1 above its random guess. Rows with fewer than ``min_positives`` positive test users are
    too noisy to judge; the integration study's ablation steps remove feature groups until the
    model may sit at chance, which is the experiment's result, not a defect: neither is judged."""
    rows = beats_random_guess(con)
    rows = rows[rows["experiment"].isin(experiments)]
    if window_ids is not None:
        rows = rows[rows["window_id"].isin(window_ids)]
    ablation = (rows["experiment"] == SETTLED_VS_LOCALS) & (rows["row"] != "all features")
    too_few = rows[~ablation & (rows["n_pos"] < min_positives)]
    judged = rows[~ablation & (rows["n_pos"] >= min_positives)]
    reason = None
    if judged.empty:
        if rows.empty:
            reason = "no classifier was evaluated: every experiment was skipped"
        elif len(too_few):
            reason = (f"every classifier row rests on fewer than {min_positives} positive test "
                      f"users ({len(too_few)} rows)")
        else:
            reason = "only ablation steps were evaluated, and they are not judged"
    losers = judged[~(judged["f1"] > judged["random_f1"])]
    metadata = {
        "classifiers_checked": len(judged),
        "not_judged_too_few_positives": len(too_few),
        "not_judged_ablation_steps": int(ablation.sum()),
        "min_positives": min_positives,
        "not_above_random_guess": losers[["experiment", "row", "window_id"]].to_dict("records"),
        "f1_interval_above_random_guess": int(judged["beats"].sum()),
        "f1_interval_above_all_positive": int(judged["beats_all_positive"].sum()),
    }
    return CheckOutcome(passed=reason is None and losers.empty, judged=len(judged),
                        reason=reason, metadata=metadata)


def f1_rises_with_k(con: duckdb.DuckDBPyConnection, min_positives: int) -> CheckOutcome:
    """The random forest's F1 at the largest k it was evaluated at is not below its F1 at the
    smallest (``departure_curves``), over the k with at least ``min_positives`` positive test
    users (as :func:`random_guess_beaten`: an F1 of a dozen leavers moves by chance; probe 35
    M1); two such k are needed."""
    ensure_schema(con)
    rf = run_sql(con, "models/check_f1_rises_with_k.sql", {"model": RANDOM_FOREST}).df()
    judged = rf[rf["n_pos"] >= min_positives]
    listed = {"k_evaluated": len(rf), "min_positives": min_positives,
              "not_judged_too_few_positives": rf.loc[rf["n_pos"] < min_positives,
                                                     "window_label"].tolist()}
    if len(judged) < 2:
        reason = (f"the random forest was evaluated at {len(rf)} k (two are needed): the other "
                  "windows were skipped") if len(rf) < 2 else (
            f"the random forest was evaluated at {len(rf)} k, {len(judged)} of them with "
            f"{min_positives} or more positive test users (checks.min_positives; two are "
            f"needed): {', '.join(listed['not_judged_too_few_positives'])} rest on fewer")
        return CheckOutcome(passed=False, judged=0, metadata=listed, reason=reason)
    first, last = judged.iloc[0], judged.iloc[-1]
    return CheckOutcome(passed=bool(last["f1"] >= first["f1"]), judged=len(judged), metadata={
        "smallest_k": first["window_label"], "largest_k": last["window_label"],
        "rf_f1_smallest_k": float(first["f1"]), "rf_f1_largest_k": float(last["f1"]),
        **listed})
