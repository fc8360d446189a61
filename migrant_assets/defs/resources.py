"""The one resource every asset uses: the study configuration and its DuckDB file."""

from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
import duckdb

from migrant_assets.config import StudyConfig
from migrant_assets.contract import DataContract, contract_for
from migrant_assets.db import connect

#: Every asset that writes the DuckDB file runs in this pool (limit 1, dagster.yaml).
DUCKDB_POOL = "duckdb"


class StudyResource(dg.ConfigurableResource):
    """The study (``config/study.yaml`` unless ``config_path`` or MIGRANT_ASSETS_CONFIG says)."""

    config_path: str | None = None

    @property
    def config(self) -> StudyConfig:
        return StudyConfig.load(self.config_path)

    def contract(self) -> DataContract:
        return contract_for(self.config, generate_missing=True)

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        cfg = self.config
        con = connect(cfg.duckdb_path, cfg.duckdb)
        try:
            yield con
        finally:
            con.close()
