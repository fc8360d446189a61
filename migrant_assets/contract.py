"""The input data contract (SPEC §1) and the one reader every input goes through.

A *mapping file* (YAML, see ``docs/data_contract.md``) says where each contract table's files are
and which of their columns holds each contract column::

    base_dir: /data/operator          # optional; default: the mapping file's folder
    calls:
      path: cdr/{date:%Y%m%d}/*.csv   # {date} is the partition day; globs allowed
      columns: {caller: msisdn_a, callee: msisdn_b, start_ts: t_start, end_ts: t_end,
                caller_cell: lac_ci_a, callee_cell: lac_ci_b}
      timestamp_format: "%d/%m/%Y %H:%M:%S"   # optional, for text timestamps
    subscribers: {path: subscribers.parquet}
    cells: {path: cells.csv, csv: {delim: ";"}}
    estates: {path: estates.csv}

Columns not listed map to themselves. The reader returns every contract column as text, with the
file and the row number in it (Parquet) so that validation in SQL decides what is bad, and puts
CSV lines that cannot be parsed at all aside as *rejected lines* (their text is never kept: it
holds phone numbers).
"""

from __future__ import annotations

import glob
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Literal

import duckdb
import yaml
from pydantic import BaseModel, ConfigDict, Field

from migrant_assets.config import FilesSource, StudyConfig

CONTRACT_COLUMNS: dict[str, tuple[str, ...]] = {
    "calls": ("caller", "callee", "start_ts", "end_ts", "caller_cell", "callee_cell"),
    "cells": ("cell_id", "lat", "lon"),
    "subscribers": (
        "number",
        "owner_id",
        "age",
        "sex",
        "birth_province",
        "is_local_number",
        "user_type",
    ),
    "estates": ("estate_id", "lat", "lon", "price_per_sqm"),
}


class TableSource(BaseModel):
    """Where one contract table's files are and how their columns map to the contract."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str
    format: Literal["csv", "parquet"] | None = None  # default: from the file extension
    columns: dict[str, str] = Field(default_factory=dict)  # contract name -> file column
    csv: dict[str, str | bool | int] = Field(default_factory=dict)  # extra read_csv options
    timestamp_format: str | None = None


class DataContract(BaseModel):
    """A mapping file: the four contract tables of SPEC §1."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    base_dir: Path
    calls: TableSource
    subscribers: TableSource
    cells: TableSource
    estates: TableSource

    @classmethod
    def load(cls, path: str | Path) -> DataContract:
        path = Path(path)
        data = yaml.safe_load(path.read_text()) or {}
        base = Path(data.pop("base_dir", path.parent))
        if not base.is_absolute():
            base = (path.parent / base).resolve()
        contract = cls.model_validate({"base_dir": base, **data})
        for table in CONTRACT_COLUMNS:
            unknown = set(contract.source(table).columns) - set(CONTRACT_COLUMNS[table])
            if unknown:
                raise ValueError(f"{path}: {table}.columns maps unknown contract columns {unknown}")
        return contract

    @classmethod
    def synthetic(cls, directory: Path) -> DataContract:
        """The synthetic city's files follow the contract as they are."""
        return cls(
            base_dir=directory,
            calls=TableSource(path="calls/{date}.parquet"),
            subscribers=TableSource(path="subscribers.parquet"),
            cells=TableSource(path="cells.parquet"),
            estates=TableSource(path="estates.parquet"),
        )

    def source(self, table: str) -> TableSource:
        return getattr(self, table)

    def files(self, table: str, day: date | None = None) -> list[Path]:
        """The files of ``table`` (for ``calls``: of one day), sorted; an error if none."""
        pattern = self.source(table).path
        if "{date" in pattern:
            if day is None:
                raise ValueError(f"{table}.path has a {{date}} field: a day is needed")
            pattern = pattern.format(date=day)
        full = str(self.base_dir / pattern)
        found = sorted(Path(p) for p in glob.glob(full))
        if not found:
            raise FileNotFoundError(f"no {table} file matches {full}")
        return found


def contract_for(
    cfg: StudyConfig,
    generate_missing: bool = False,
    progress: Callable[[str], None] | None = None,
) -> DataContract:
    """The data contract of a study: its mapping file, or the synthetic city's layout (generated
    first when ``generate_missing`` and it is not there yet)."""
    if isinstance(cfg.source, FilesSource):
        return DataContract.load(cfg.source.mapping)
    if generate_missing and not (cfg.synthetic_dir / "manifest.json").exists():
        from migrant_assets.synthetic import generate

        generate(
            cfg.source.preset,
            cfg.source.seed,
            cfg.synthetic_dir,
            proportions=cfg.source.proportions,
            start=cfg.calendar.month_start,
            end=cfg.calendar.month_end,
            progress=progress,
        )
    return DataContract.synthetic(cfg.synthetic_dir)


@dataclass(frozen=True)
class RawRead:
    """A contract table read as text into a temp table, plus the lines the CSV parser rejected."""

    table: str  # the temp table: contract columns as VARCHAR, then _file, _row
    rows: int
    rejected_lines: list[tuple[str, int, str]]  # (file, line, error type)

    @property
    def read(self) -> int:
        return self.rows + len(self.rejected_lines)


def _sql_list(files: list[Path]) -> str:
    return "[" + ", ".join("'" + str(f).replace("'", "''") + "'" for f in files) + "]"


def read_table(
    con: duckdb.DuckDBPyConnection, contract: DataContract, table: str, day: date | None = None
) -> RawRead:
    """Read one contract table (one day of ``calls``) into temp table ``raw_<table>``."""
    src = contract.source(table)
    files = contract.files(table, day)
    fmt = src.format or ("parquet" if files[0].suffix == ".parquet" else "csv")
    if fmt == "parquet":
        scan = f"read_parquet({_sql_list(files)}, filename = true, file_row_number = true)"
        row = "file_row_number + 1"
    else:
        opts = "".join(f", {k} = {_sql_value(v)}" for k, v in src.csv.items())
        scan = (
            f"read_csv({_sql_list(files)}, all_varchar = true, filename = true, "
            f"store_rejects = true, rejects_table = 'rejects_{table}', "
            f"rejects_scan = 'rejects_scan_{table}'{opts})"
        )
        row = "NULL"
    present = {r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {scan}").fetchall()}
    cols = []
    for name in CONTRACT_COLUMNS[table]:
        col = src.columns.get(name, name)
        if col not in present:
            raise ValueError(
                f"{table}: column '{col}' (contract column '{name}') is not in {files[0]}; "
                f"it has {sorted(present - {'filename', 'file_row_number'})}"
            )
        value = f'CAST("{col}" AS VARCHAR)'
        if name in ("start_ts", "end_ts") and src.timestamp_format:
            value = f"CAST(try_strptime({value}, '{src.timestamp_format}') AS VARCHAR)"
        cols.append(f'{value} AS "{name}"')
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE raw_{table} AS SELECT {', '.join(cols)}, "
        f"filename AS _file, CAST({row} AS BIGINT) AS _row FROM {scan}"
    )
    rows = con.execute(f"SELECT count(*) FROM raw_{table}").fetchone()[0]
    rejected: list[tuple[str, int, str]] = []
    if fmt == "csv":
        rejected = con.execute(
            # one row per bad line (the parser lists a line once per missing column)
            f"SELECT s.file_path, e.line, min(CAST(e.error_type AS VARCHAR)) "
            f"FROM rejects_{table} e JOIN rejects_scan_{table} s USING (scan_id, file_id) "
            f"GROUP BY ALL ORDER BY 1, 2"
        ).fetchall()
        con.execute(f"DROP TABLE IF EXISTS rejects_{table}")
        con.execute(f"DROP TABLE IF EXISTS rejects_scan_{table}")
    return RawRead(f"raw_{table}", rows, rejected)


def _sql_value(v: str | bool | int) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    return "'" + str(v).replace("'", "''") + "'"
