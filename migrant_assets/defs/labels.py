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
    new = dep["staying_migrant"] + dep["leaving_migrant"]
    share = dep["leaving_migrant"] / new if new else 0.0
    low, high = LEAVING_SHARE_RANGE
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
        check_results=[
            dg.AssetCheckResult(
                check_name="group_counts_nonzero",
                passed=all(n > 0 for k, n in [*integ.items(), *dep.items()] if k != "unlabelled"),
                metadata={"integration": dg.MetadataValue.json(integ),
                          "departure": dg.MetadataValue.json(dep)},
            ),
            dg.AssetCheckResult(
                check_name="leaving_share",
                passed=low <= share <= high,
                severity=dg.AssetCheckSeverity.ERROR if synthetic else dg.AssetCheckSeverity.WARN,
                metadata={"leaving_share": share, "range": dg.MetadataValue.json([low, high])},
            ),
            dg.AssetCheckResult(
                check_name="one_label_per_study",
                passed=checks["duplicate_users"] == 0,
                metadata={"duplicate_users": checks["duplicate_users"]},
            ),
            dg.AssetCheckResult(
                check_name="labelled_users_have_attributes",
                passed=checks["labelled_without_attributes"] == 0,
                metadata={"labelled_without_attributes": checks["labelled_without_attributes"]},
            ),
        ],
    )
