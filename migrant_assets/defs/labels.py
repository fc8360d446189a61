"""Labels asset (SPEC §3): who is a local, a settled, new, staying or leaving migrant."""

import dagster as dg

from migrant_assets.config import SyntheticSource
from migrant_assets.defs.ingest import calls, subscribers
from migrant_assets.defs.resources import DUCKDB_POOL, StudyResource
from migrant_assets.labels import build_user_labels, label_checks

GROUP = "labels"

#: Share of the departure study's new migrants who leave: the paper reports about 4%.
LEAVING_SHARE_RANGE = (0.02, 0.08)


@dg.asset(
    group_name=GROUP,
    pool=DUCKDB_POOL,
    kinds={"duckdb"},
    deps=[subscribers, dg.AssetDep(calls)],
    check_specs=[
        dg.AssetCheckSpec("group_counts_nonzero", asset="user_labels",
                          description="Every group of both studies has users."),
        dg.AssetCheckSpec("leaving_share", asset="user_labels",
                          description="Leaving migrants are 2%..8% of the departure study's new "
                          "migrants (paper: about 4%); an error on the synthetic city."),
        dg.AssetCheckSpec("one_label_per_study", asset="user_labels",
                          description="No user has two rows, hence two labels in one study."),
        dg.AssetCheckSpec("labelled_users_have_attributes", asset="user_labels",
                          description="Every labelled user is a subscriber with a birth province."),
    ],
)
def user_labels(context: dg.AssetExecutionContext, study: StudyResource) -> dg.MaterializeResult:
    """One row per user with `integration_label` and `departure_label` and the activity facts
    that decided them; service-like owners removed (SPEC §3)."""
    cfg = study.config
    with study.connect() as con:
        stats = build_user_labels(con, cfg)
        checks = label_checks(con)
    integ, dep = stats["integration_label_counts"], stats["departure_label_counts"]
    synthetic = isinstance(cfg.source, SyntheticSource)
    context.log.info(f"integration groups {integ}; departure groups {dep}")
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": stats["n_users"],
            "integration_groups": dg.MetadataValue.json(integ),
            "departure_groups": dg.MetadataValue.json(dep),
            "service_like_removed": stats["n_service_like_removed"],
            "removed_by_user_type": stats["n_removed_user_type"],
            "removed_by_max_degree": stats["n_removed_max_degree"],
            "max_degree": stats["max_degree"],
            "removed_degree_range": dg.MetadataValue.json(
                [stats["removed_degree_min"], stats["removed_degree_max"]]),
            "unknown_birth_province": stats["n_unknown_birth_province"],
            "leaving_migrants_active_after_week_c": stats["n_leaving_active_after_c"],
        },
        check_results=_check_results(cfg.population, integ, dep, checks, synthetic),
    )


def _result(name: str, passed: bool, judged: int, metadata: dict, reason: str | None = None,
            severity: dg.AssetCheckSeverity = dg.AssetCheckSeverity.ERROR) -> dg.AssetCheckResult:
    """A check result; ``judged`` = 0 means not judged: not passed, WARN, with the reason."""
    metadata = {**metadata, "judged": judged}
    if reason is not None:
        metadata["reason"] = reason
    if judged == 0:
        passed, severity = False, dg.AssetCheckSeverity.WARN
    return dg.AssetCheckResult(check_name=name, passed=bool(passed), severity=severity,
                               metadata=metadata)


def _check_results(population: str, integ: dict, dep: dict, checks: dict,
                   synthetic: bool) -> list[dg.AssetCheckResult]:
    """The label checks. None passes on nothing: no user, no labelled user, no new migrant is
    reported as not judged (WARN). Without any known birth province no label can exist: a
    failure for the papers' population (`labelled`), not judged for the others."""
    no_users = "user_labels is empty: no owner with a local number who is not service-like"
    groups = {"integration": dg.MetadataValue.json(integ), "departure": dg.MetadataValue.json(dep)}
    if checks["n_users"] == 0:
        counts = _result("group_counts_nonzero", False, 0, groups, no_users)
    elif checks["n_known_province"] == 0:
        reason = "no user has a known birth province: no study label can be given"
        counts = (_result("group_counts_nonzero", False, checks["n_users"], groups, reason)
                  if population == "labelled" else
                  _result("group_counts_nonzero", False, 0, groups, reason))
    else:
        counts = _result(
            "group_counts_nonzero",
            all(n > 0 for k, n in [*integ.items(), *dep.items()] if k != "unlabelled"),
            checks["n_users"], groups)

    new = dep["staying_migrant"] + dep["leaving_migrant"]
    low, high = LEAVING_SHARE_RANGE
    share_meta = {"range": dg.MetadataValue.json([low, high])}
    if new == 0:
        leaving = _result("leaving_share", False, 0, share_meta,
                          "no new migrant (staying or leaving) in the departure study")
    else:
        share = dep["leaving_migrant"] / new
        leaving = _result(
            "leaving_share", low <= share <= high, new, {**share_meta, "leaving_share": share},
            severity=dg.AssetCheckSeverity.ERROR if synthetic else dg.AssetCheckSeverity.WARN)

    one_label = _result(
        "one_label_per_study", checks["duplicate_users"] == 0, checks["n_users"],
        {"duplicate_users": checks["duplicate_users"]},
        None if checks["n_users"] else no_users)
    without = checks["labelled_without_attributes"]
    attributes = _result(
        "labelled_users_have_attributes", without == 0, checks["n_labelled"],
        {"labelled_without_attributes": without},
        None if checks["n_labelled"] else "no user has a label in either study")
    return [counts, leaving, one_label, attributes]
