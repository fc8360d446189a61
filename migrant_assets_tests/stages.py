"""The pipeline's own functions run stage by stage, without Dagster, for the tests that need a
study's tables without the whole main job (the null cities' findings, the Spark features'
DuckDB side): one DuckDB connection per stage, as the assets have."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import duckdb

from migrant_assets.config import StudyConfig, Window
from migrant_assets.contract import contract_for
from migrant_assets.db import connect
from migrant_assets.features import build_features, ensure_schema, write_cell_prices
from migrant_assets.graphs import (
    build_daily_contacts,
    build_first_k_days_contacts,
    build_window_graph,
    first_k_days_span,
)
from migrant_assets.ingest import (
    generate_city,
    ingest_calls,
    ingest_places,
    ingest_subscribers,
    land_calls,
)
from migrant_assets.labels import build_user_labels

Stage = Callable[[duckdb.DuckDBPyConnection], Any]


def through_features(cfg: StudyConfig, windows: Sequence[Window]) -> list[Stage]:
    """The stages from the study's files (a synthetic city generated first) to the graphs and
    features of ``windows``: ingestion, labels, every day's contacts, the first-k-days span
    when a window needs it, the cell prices, then each window's graph and features (built from
    its own days, with the study's neighbourhood rule, as the assets build them)."""
    generate_city(cfg)
    contract = contract_for(cfg)
    first_k = any(w.family == "first_k_days" for w in windows)
    return [
        lambda con: ingest_subscribers(con, cfg, contract),
        *[lambda con, t=t: ingest_places(con, cfg, contract, t) for t in ("cells", "estates")],
        lambda con: land_calls(con, cfg, contract),
        *[lambda con, d=d: ingest_calls(con, cfg, d) for d in cfg.calendar.days],
        lambda con: build_user_labels(con, cfg),
        *[lambda con, d=d: build_daily_contacts(con, d) for d in cfg.calendar.days],
        *([lambda con: build_first_k_days_contacts(
            con, cfg.calendar, *first_k_days_span(cfg.calendar))] if first_k else []),
        write_cell_prices,
        ensure_schema,  # every feature table and the `features` view over them
        *[lambda con, w=w: (build_window_graph(con, w, None, cfg), build_features(con, cfg, w))
          for w in windows],
    ]


def run_stages(cfg: StudyConfig, stages: Sequence[Stage]) -> Any:
    """Each stage on a connection of its own to the study's DuckDB file; the last one's
    value."""
    result = None
    for stage in stages:
        con = connect(cfg.duckdb_path, cfg.duckdb)
        try:
            result = stage(con)
        finally:
            con.close()
    return result
