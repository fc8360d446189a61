"""Issue 12, the house: one asset key = one DuckDB table (or view) named by
`dagster/table_name`, no table written by two assets, checks on partitioned assets tied to
their partition, and the main job's order derived from the asset graph.

Which tables an asset writes is read from what it actually ran: the `tiny` demo logs every
statement of every asset and check (DuckDB's query log, ``MIGRANT_ASSETS_SQL_LOG``), and
sqlglot parses each one.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from migrant_assets.config import StudyConfig
from migrant_assets.runs import main_plan
from migrant_assets_tests.sql_log import tables_written, written_tables

#: The tables of migrant_assets/lineage.py (sql/lineage/schema.sql).
LINEAGE = {"built_from", "source_files", "settings_versions"}


def test_the_write_classifier():
    """The classifier the ownership test rests on, on statements of each kind."""
    assert written_tables("INSERT INTO features_w (a) SELECT 1") == ({"features_w"}, set())
    assert written_tables("DELETE FROM calls WHERE call_date = $day") == ({"calls"}, set())
    assert written_tables("CREATE OR REPLACE TABLE findings AS SELECT 1") == ({"findings"}, set())
    assert written_tables("CREATE TABLE IF NOT EXISTS calls (a INTEGER)") == (set(), set())
    assert written_tables("CREATE TEMP TABLE raw_calls AS SELECT 1") == (set(), {"raw_calls"})
    assert written_tables("CREATE OR REPLACE VIEW features AS SELECT 1") == (set(), set())
    assert written_tables("COMMENT ON COLUMN calls.caller IS 'x'") == (set(), set())
    assert written_tables("DROP TABLE IF EXISTS old") == ({"old"}, set())
    assert written_tables('UPDATE "report" SET status = 1') == ({"report"}, set())


@pytest.fixture(scope="module")
def writers(tiny: dict) -> dict[str, set[str]]:
    """Every persistent table the demo wrote, with the assets (or checks) that wrote it."""
    return tables_written(Path(tiny["sql_log"]))


def _specs():
    from migrant_assets.defs import defs

    return [s for s in defs.resolve_all_asset_specs()
            if defs.resolve_assets_def(s.key).is_executable]


def test_every_asset_names_its_table_and_the_table_exists(tiny: dict) -> None:
    con = duckdb.connect(str(tiny["cfg"].duckdb_path), read_only=True)
    try:
        stored = {n for (n,) in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE NOT temporary UNION "
            "SELECT view_name FROM duckdb_views() WHERE NOT internal AND NOT temporary"
        ).fetchall()}
    finally:
        con.close()
    named = {s.key.to_user_string(): s.metadata.get("dagster/table_name") for s in _specs()}
    assert all(named.values()), [k for k, t in named.items() if not t]
    assert set(named.values()) <= stored, sorted(set(named.values()) - stored)
    assert len(set(named.values())) == len(named)  # one table per asset key


def test_no_table_is_written_by_two_assets(writers: dict[str, set[str]]) -> None:
    """But the lineage's own tables (migrant_assets/lineage.py), where every asset records what
    it was built from: test_every_asset_records_its_own_lineage."""
    shared = {t: sorted(w) for t, w in writers.items() if len(w) > 1 and t not in LINEAGE}
    assert not shared, shared
    by_checks = {t: sorted(w) for t, w in writers.items() if any(x.startswith("check ")
                                                                  for x in w)}
    assert not by_checks, by_checks  # a check reads; it never writes


def test_each_asset_writes_its_own_table(writers: dict[str, set[str]]) -> None:
    """The log is not vacuous: each asset's named table is written by that asset (views are
    made by schema DDL and are written through the tables they union)."""
    owner = {next(iter(w)): t for t, w in writers.items()}
    for spec in _specs():
        table = spec.metadata["dagster/table_name"]
        if table in writers:
            assert writers[table] == {spec.key.to_user_string()}, (table, writers[table])
    assert len(owner) >= 20


def test_a_check_on_a_partitioned_asset_reports_its_partition(tiny: dict) -> None:
    """Every partitioned check of the demo has one evaluation per partition of its asset, tied
    to it, though the demo runs each window family in one run over its range."""
    from migrant_assets.defs import defs

    instance = dg.DagsterInstance.from_config(str(tiny["dagster_home"]))
    graph = defs.resolve_asset_graph()
    partitioned = {k for k in graph.asset_check_keys
                   if graph.get(k.asset_key).partitions_def is not None
                   and graph.get(k.asset_key).group_name != "early_warning"}
    assert {dg.AssetCheckKey(dg.AssetKey(a), c) for a, c in (
        ("integration_week_graph", "edges_match_calls"),
        ("features_first_k_days", "one_row_per_active_labelled_user"),
        ("departure_models", "no_user_in_train_and_test"),
        ("calls", "row_accounting"))} <= partitioned
    for key in partitioned:
        keys = graph.get(key.asset_key).partitions_def.get_partition_keys()
        records = instance.event_log_storage.get_asset_check_execution_history(key, limit=100)
        # every partition, none missing or None (a later backfill may add records)
        assert {r.partition for r in records} == set(keys), key
        for record in records:
            evaluation = record.event.dagster_event.event_specific_data
            assert evaluation.partition == record.partition, key


def test_the_main_plan_follows_the_asset_graph() -> None:
    """Every asset once, each after everything it depends on; a step shares one partitioning."""
    from migrant_assets.defs import defs

    steps = main_plan(defs)
    order = [k for s in steps for k in s.keys]
    assert sorted(order) == sorted(s.key for s in _specs()) and len(set(order)) == len(order)
    position = {k: i for i, k in enumerate(order)}
    for spec in _specs():
        for dep in spec.deps:
            # a first-k window reads its own previous partition (a self-dependency)
            if dep.asset_key in position and dep.asset_key != spec.key:
                assert position[dep.asset_key] < position[spec.key], (dep.asset_key, spec.key)
    for step in steps:
        assert len({defs.resolve_assets_def(k).partitions_def for k in step.keys}) == 1


def test_every_setting_is_tracked_by_the_stages_that_read_it_or_said_untracked() -> None:
    """Every setting of the study config is in a stage's ``lineage.SETTINGS`` (a change marks
    the stage's tables out of date) or in ``lineage.UNTRACKED`` with its reason: the days'
    coverage thresholds, read by the labels and the models, were in neither, and a change of
    them rewrote every label while everything downstream stayed current. The thresholds of
    :func:`migrant_assets.labels.find_uncovered_days` are tracked by each stage that calls it."""
    from pydantic import BaseModel

    from migrant_assets import lineage

    def leaves(model: BaseModel, prefix: str = "") -> Iterator[str]:
        for name in type(model).model_fields:
            value = getattr(model, name)
            if isinstance(value, BaseModel):
                yield from leaves(value, f"{prefix}{name}.")
            else:
                yield prefix + name

    def covered(path: str, by: Iterable[str]) -> bool:
        return any(path == p or path.startswith(p + ".") for p in by)

    tracked = {p for paths in lineage.SETTINGS.values() for p in paths}
    paths = list(leaves(StudyConfig()))
    assert len(paths) > 50
    loose = [p for p in paths if not covered(p, tracked) and not covered(p, lineage.UNTRACKED)]
    assert not loose
    both = [p for p in paths if covered(p, tracked) and covered(p, lineage.UNTRACKED)]
    assert not both
    # uncovered days: the labels', the models' and the group means' windows
    for group in ("labels", "models", "reports"):
        assert {"thresholds.min_day_share", "thresholds.dense_day_calls"} <= set(
            lineage.SETTINGS[group])


def test_every_asset_records_its_own_lineage(tiny: dict) -> None:
    """Each asset of the pipeline's stages has a version for each of its partitions, and what
    each was built from is its own upstream (the asset graph), never an asset downstream."""
    from migrant_assets import lineage
    from migrant_assets.defs import defs

    graph = defs.resolve_asset_graph()
    con = duckdb.connect(str(tiny["cfg"].duckdb_path), read_only=True)
    try:
        rows = con.execute("SELECT asset, part, inputs FROM built_from").fetchall()
    finally:
        con.close()
    recorded = {(a, p) for a, p, _ in rows}
    for spec in _specs():
        if lineage.settings_key(spec.key.to_user_string(), spec.group_name) is None:
            continue
        parts = spec.partitions_def.get_partition_keys() if spec.partitions_def else [""]
        assert {(spec.key.to_user_string(), p) for p in parts} <= recorded, spec.key
    for asset, part, inputs in rows:
        if part and asset in lineage.SLICES:
            continue  # a day of landed_calls: its rows' hash
        # its ancestors, and itself when it reads its own previous partition (first-k windows)
        upstream = {k.to_user_string() for k in graph.get_ancestor_asset_keys(dg.AssetKey(asset))}
        parents = graph.get(dg.AssetKey(asset)).parent_keys
        upstream |= {asset} & {k.to_user_string() for k in parents}
        read = {name.partition("@")[0] for name in json.loads(inputs)
                if not name.startswith("settings:")}
        assert read <= upstream and bool(read) == bool(upstream), (asset, read ^ upstream)
