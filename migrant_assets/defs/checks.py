"""The one way a check states its verdict. A check with nothing to judge never passes: it is
reported as not judged (``passed`` False, severity WARN, ``judged: 0`` and the reason), which
`migrant-assets demo` and the UI show apart from a failure."""

from __future__ import annotations

import dagster as dg

from migrant_assets.defs.metadata import tidy


def verdict(passed: bool, judged: int, metadata: dict | None = None, reason: str | None = None,
            severity: dg.AssetCheckSeverity = dg.AssetCheckSeverity.ERROR,
            ) -> dg.AssetCheckResult:
    """A check's result: ``judged`` is how many rows (users, edges, partitions…) it judged;
    0 means nothing to judge (not passed, WARN, with ``reason``)."""
    md = {k: (dg.MetadataValue.json(tidy(v)) if isinstance(v, dict | list) else tidy(v))
          for k, v in (metadata or {}).items()}
    md["judged"] = int(judged)
    if reason is not None:
        md["reason"] = reason
    if judged == 0:
        return dg.AssetCheckResult(passed=False, severity=dg.AssetCheckSeverity.WARN,
                                   metadata=md)
    return dg.AssetCheckResult(passed=bool(passed), severity=severity, metadata=md)
