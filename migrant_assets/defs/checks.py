"""The one way a check states its verdict. A check with nothing to judge never passes: it is
reported as not judged (``passed`` False, severity WARN, ``judged: 0`` and the reason), which
`migrant-assets demo` and the UI show apart from a failure."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

import dagster as dg

from migrant_assets.defs.metadata import tidy
from migrant_assets.features import CheckOutcome


def verdict(passed: bool, judged: int, metadata: dict | None = None, reason: str | None = None,
            severity: dg.AssetCheckSeverity = dg.AssetCheckSeverity.ERROR,
            check_name: str | None = None, check_first: str | None = None
            ) -> dg.AssetCheckResult:
    """A check's result: ``judged`` is how many rows (users, edges, partitions…) it judged;
    0 means nothing to judge (not passed, WARN, with ``reason``). ``check_name`` names the
    check of a multi-check; ``check_first``, when given, what the user should look at first."""
    md = {k: (dg.MetadataValue.json(tidy(v)) if isinstance(v, dict | list) else tidy(v))
          for k, v in (metadata or {}).items()}
    if check_first:
        md["check_first"] = check_first
    md["judged"] = int(judged)
    if reason is not None:
        md["reason"] = reason
    if judged == 0:
        passed, severity = False, dg.AssetCheckSeverity.WARN
    return dg.AssetCheckResult(passed=bool(passed), severity=severity, metadata=md,
                               check_name=check_name)


def outcome_verdict(outcome: CheckOutcome, check_name: str | None = None,
                    ) -> dg.AssetCheckResult:
    """:func:`verdict` of a check computed by a stage module (``features.CheckOutcome``)."""
    return verdict(outcome.passed, outcome.judged, outcome.metadata, outcome.reason,
                   severity=dg.AssetCheckSeverity[outcome.severity], check_name=check_name)


def per_partition(context: dg.AssetCheckExecutionContext,
                  checks: Sequence[tuple[dg.AssetCheckSpec, Mapping[str, dg.AssetCheckResult]]],
                  ) -> Iterator:
    """The results of partitioned checks, one per check and partition key of the run
    (``checks``: each spec with its results by partition key). A run of one partition: the
    results (Dagster ties them to the partition and to the materialization they check). A
    single run over a range, where Dagster would record one result for no partition: one
    evaluation per check and partition (the check must be a ``multi_asset_check`` with
    ``can_subset=True`` to yield them); then, as a blocking check does in a run of one
    partition, the step fails when a blocking check failed with severity ERROR on some
    partition, so nothing downstream in the run reads the partition."""
    if context.has_partition_key:
        for spec, results in checks:  # named: an op may hold several checks of the asset
            for r in results.values():
                yield dg.AssetCheckResult(
                    asset_key=spec.asset_key, check_name=spec.name, passed=r.passed,
                    metadata=r.metadata, severity=r.severity, description=r.description)
        return
    blocked = []
    for spec, results in checks:
        for key, r in results.items():
            yield dg.AssetCheckEvaluation(
                asset_key=spec.asset_key, check_name=spec.name, passed=r.passed,
                metadata=r.metadata, severity=r.severity, description=r.description,
                blocking=spec.blocking, partition=key)
            if spec.blocking and not r.passed and r.severity == dg.AssetCheckSeverity.ERROR:
                blocked.append(f"{spec.asset_key.to_user_string()}.{spec.name} [{key}]")
    if blocked:
        raise dg.Failure(description="blocking check(s) failed: " + ", ".join(blocked))
