"""The code location loads, and its partitions follow the study calendar (SPEC §2)."""

from datetime import date

import dagster as dg

from migrant_assets.config import StudyConfig
from migrant_assets.defs import defs
from migrant_assets.defs import partitions as p
from migrant_assets.defs.resources import DUCKDB_POOL


def test_definitions_load() -> None:
    dg.Definitions.validate_loadable(defs)
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert {"calls", "subscribers", "cells", "estates", "user_labels", "daily_contacts",
            "integration_week_graph", "departure_week_graph", "first_k_days_graph"} <= keys


def test_every_duckdb_writer_is_in_the_pool() -> None:
    for spec in defs.resolve_all_asset_specs():
        if "duckdb" in spec.kinds:
            node = defs.resolve_assets_def(spec.key).node_def
            assert node.pool == DUCKDB_POOL, spec.key


def test_partitions_follow_the_calendar() -> None:
    cal = StudyConfig().calendar
    assert p.study_days.get_partition_keys() == [d.isoformat() for d in cal.days]
    assert p.integration_weeks.get_partition_keys() == [
        w.key for w in cal.windows("integration_week")]
    assert p.departure_weeks.get_partition_keys() == [
        w.key for w in cal.windows("departure_week")]
    assert p.first_k_days.get_partition_keys() == [w.key for w in cal.windows("first_k_days")]
    assert p.first_k_days.get_partition_keys()[0] == "2016-09-07"  # k = 3
    assert p.first_k_days.get_partition_keys()[-1] == "2016-09-18"  # k = 14


def test_window_partitions_map_to_their_days() -> None:
    """Lineage is partition to partition: each window reads exactly its own days."""
    graph = defs.resolve_asset_graph()
    cal = StudyConfig().calendar
    cases = [("integration_week_graph", "integration_week", "daily_contacts"),
             ("departure_week_graph", "departure_week", "daily_contacts"),
             ("first_k_days_graph", "first_k_days", "first_k_days_contacts")]
    for asset, family, upstream in cases:
        for w in cal.windows(family):
            keys = graph.get_parent_partition_keys_for_child(
                w.key, dg.AssetKey(upstream), dg.AssetKey(asset)
            ).partitions_subset.get_partition_keys()
            assert sorted(date.fromisoformat(k) for k in keys) == w.days, (asset, w.label)


def test_every_partitioned_asset_names_the_tables_it_writes_by_partition() -> None:
    """A partition that leaves the calendar is dropped from the tables of
    `lineage.PARTITION_TABLES` (probe 33 F1): every partitioned asset of the stages is there,
    its own table first, each table with its partition's column."""
    from migrant_assets import lineage

    graph = defs.resolve_asset_graph()
    partitioned = {node.key.to_user_string(): node for node in graph.asset_nodes
                   if node.partitions_def is not None
                   and lineage.settings_key(node.key.to_user_string(), node.group_name)}
    assert partitioned.keys() == lineage.PARTITION_TABLES.keys()
    for name, node in partitioned.items():
        tables = lineage.PARTITION_TABLES[name]
        assert not tables or tables[0][0] == node.metadata.get("dagster/table_name", name), name
        assert all(column in ("window_id", "call_date", "partition_key", "end_day")
                   for _, column in tables), name
