"""Errors a person can act on (issue 10): `migrant-assets demo` prints one paragraph for a
failure (the traceback only with --verbose), keeps going with what does not need the failed
step, always writes the report and the summary, and exits 2 for a bad config or mapping before
any run, 1 for a failed run."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from migrant_assets.cli import explain, main, still_running
from migrant_assets.config import StudyConfig, load_yaml
from migrant_assets.contract import DataContract
from migrant_assets.errors import InputError, MappingError
from migrant_assets_tests.extracts import SHANGHAI

FIX = "map the column that holds the caller's number as caller in the mapping file"


def _demo(argv: list[str], capsys) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    out, err = capsys.readouterr()
    return exit_info.value.code, out, err


@pytest.fixture
def environment(tmp_path, monkeypatch) -> Path:
    """A fresh Dagster home and no study config from the environment (restored afterwards)."""
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    monkeypatch.setenv("MIGRANT_ASSETS_CONFIG", "")
    monkeypatch.delenv("MIGRANT_ASSETS_DUCKDB", raising=False)
    monkeypatch.delenv("MIGRANT_ASSETS_WORKDIR", raising=False)
    monkeypatch.setenv("MIGRANT_ASSETS_KEY", secrets.token_hex(20))  # 40 random characters
    return tmp_path


@pytest.mark.parametrize("verbose", [False, True])
def test_missing_mapping_stops_before_any_run(environment, capsys, verbose):
    mapping = environment / "mapping.yaml"  # never written
    config = environment / "study.yaml"
    config.write_text(yaml.safe_dump({"source": {"kind": "files", "mapping": str(mapping)},
                                      "workdir": str(environment / "work"),
                                      "city": dict(SHANGHAI)}))
    code, out, err = _demo(["demo", "--config", str(config), *(["--verbose"] * verbose)],
                           capsys)
    assert code == 2
    paragraph = err.strip().splitlines()[0]
    assert paragraph.startswith("demo stopped: the mapping file does not exist.")
    assert str(mapping) in paragraph and "Fix:" in paragraph
    assert ("Traceback" in err) is verbose
    assert "fold_users" not in out  # no run started


def test_a_study_config_is_parsed_once_per_text(tmp_path, monkeypatch):
    """``StudyConfig.load`` reads the file each time (every asset step does): the same text
    is parsed once, an edited file gives its new values, and the working directory and
    ``MIGRANT_ASSETS_WORKDIR`` are honoured as before. The working directory is asked only for
    a relative path: a process whose working directory was deleted reads a config of absolute
    paths (checked in a child process: this one's directory is the background jobs' too)."""
    monkeypatch.delenv("MIGRANT_ASSETS_WORKDIR", raising=False)
    path = tmp_path / "study.yaml"
    path.write_text("workdir: w\nthresholds: {min_group_size: 7}\n")
    first = StudyConfig.load(path)
    assert StudyConfig.load(path).thresholds is first.thresholds  # parsed once
    assert first.thresholds.min_group_size == 7 and first.workdir == (Path.cwd() / "w").resolve()
    path.write_text("workdir: w\nthresholds: {min_group_size: 9}\n")
    assert StudyConfig.load(path).thresholds.min_group_size == 9
    monkeypatch.setenv("MIGRANT_ASSETS_WORKDIR", str(tmp_path / "elsewhere"))
    assert StudyConfig.load(path).workdir == tmp_path / "elsewhere"
    monkeypatch.delenv("MIGRANT_ASSETS_WORKDIR")
    path.write_text(f"workdir: {tmp_path / 'abs'}\n")
    gone = tmp_path / "gone"
    gone.mkdir()
    script = ("import os, sys; from migrant_assets.config import StudyConfig; "
              "os.rmdir(os.getcwd()); print(StudyConfig.load(sys.argv[1]).workdir)")
    out = subprocess.run([sys.executable, "-c", script, str(path)], cwd=gone, check=True,
                         capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])})
    assert out.stdout.strip() == str(tmp_path / "abs")


def test_invalid_study_config_is_one_paragraph(environment, capsys):
    config = environment / "study.yaml"
    config.write_text(yaml.safe_dump({"calendar": {"k_min": "three"}, "workdir": "w"}))
    code, _, err = _demo(["demo", "--config", str(config)], capsys)
    assert code == 2
    assert err.startswith("demo stopped: the study config is invalid (calendar.k_min: ")
    assert f"Where: {config}." in err and "Traceback" not in err
    assert "three" not in err  # the paragraph names the key, not the value


def test_the_code_location_of_an_invalid_study_config_ends_in_one_paragraph(tmp_path):
    """``dagster asset materialize`` and ``dagster dev`` load the definitions with the config
    of ``MIGRANT_ASSETS_CONFIG``: the loading error ends in the same paragraph as the demo's,
    not in pydantic's validation error and its chained traceback."""
    config = tmp_path / "study.yaml"
    config.write_text(yaml.safe_dump({"calendar": {"k_min": "three"}, "workdir": "w"}))
    out = subprocess.run([sys.executable, "-c", "import migrant_assets.defs"],
                         capture_output=True, text=True,
                         env={**os.environ, "MIGRANT_ASSETS_CONFIG": str(config),
                              "PYTHONPATH": str(Path(__file__).parents[1])})
    assert out.returncode != 0
    last = out.stderr.strip().splitlines()[-1]
    assert last.startswith("migrant_assets.errors.ConfigError: the study config is invalid "
                           "(calendar.k_min: ")
    assert f"Where: {config}." in last and "pydantic" not in out.stderr


def test_a_key_written_twice_is_refused_with_its_line(environment, capsys):
    """YAML keeps the last of two equal keys silently (a second thresholds block dropped the
    first's values): the study config and the mapping refuse it, naming the line, not the key."""
    config = environment / "study.yaml"
    config.write_text("workdir: w\nthresholds:\n  min_class_size: 5\n"
                      "thresholds:\n  min_group_size: 3\n")
    code, _, err = _demo(["demo", "--config", str(config)], capsys)
    assert code == 2
    assert err.startswith("demo stopped: the study config is not valid YAML (a key is written "
                          f"a second time in one mapping). Where: {config}, line 4.")
    mapping = environment / "mapping.yaml"
    mapping.write_text("subscribers:\n  path: s.csv\n  columns: {sex: sex, sex: age}\n")
    with pytest.raises(MappingError, match=r"written a second time .* line 3"):
        DataContract.load(mapping)
    # a key merged from an anchor (<<) and written again is overridden, as YAML has it
    assert load_yaml("a: &c {x: p, y: q}\nb: {<<: *c, y: r}\n") == {
        "a": {"x": "p", "y": "q"}, "b": {"x": "p", "y": "r"}}
    # ... and one written twice beside a merge is still refused
    mapping.write_text("subscribers:\n  path: s.csv\n  columns: &c {sex: sex}\n"
                       "cells:\n  path: c.csv\n  columns: {<<: *c, lat: a, lat: b}\n")
    with pytest.raises(MappingError, match=r"written a second time .* line 6"):
        DataContract.load(mapping)


def test_a_null_or_boolean_where_text_belongs_says_to_quote_it(tmp_path):
    """YAML reads NULL and ~ as no value, on/off as booleans and -1 as a number: the error says
    to quote them."""
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text("null_tokens: ['', NULL, ~, -1]\ncalls:\n  path: c.csv\n"
                       "  event_types: {call: [MOC, on]}\n")
    with pytest.raises(MappingError) as info:
        DataContract.load(mapping)
    message = str(info.value)
    assert message.count("write it in quotes") == 4
    for key in ("null_tokens.1", "null_tokens.2", "null_tokens.3", "calls.event_types.call.1"):
        assert key in message


def _fail_departure_folds(con, cfg, seed):
    raise MappingError("the subscribers file has no column msisdn", "subscribers.csv, row 1",
                       FIX)


@pytest.fixture
def failing_run(environment, monkeypatch):
    """A two-step plan whose first run raises an InputError inside the asset (the way a bad
    data file fails), then the report step; no synthetic city is generated."""
    import dagster as dg

    from migrant_assets.runs import Step

    monkeypatch.setattr("migrant_assets.defs.models.assign_departure_folds",
                        _fail_departure_folds)
    # no step of the plan builds the features the folds read: the asset must reach its own
    # failure, not the refusal of an input never materialized (test_reruns.py tests that one)
    monkeypatch.setattr("migrant_assets.lineage._refuse_never_built", lambda *_: None)
    plan = [Step((dg.AssetKey("departure_folds"),)),
            Step((dg.AssetKey("departure_curves"), dg.AssetKey("report")))]
    monkeypatch.setattr("migrant_assets.runs.main_plan", lambda defs, **_: plan)
    return ["demo", "--preset", "tiny", "--workdir", str(environment / "work")]


def test_input_error_in_a_run_is_one_paragraph(failing_run, environment, capsys):
    code, out, err = _demo(failing_run, capsys)
    assert code == 2  # every failure an input error: the input is wrong
    assert ("  departure_folds failed: the subscribers file has no column msisdn. Where: "
            f"subscribers.csv, row 1. Fix: {FIX}.\n") in err
    assert "Traceback" not in err and "Stack Trace" not in err
    assert "departure_folds: FAILED" in out
    # what needs the folds was skipped, the report still ran, and the summary was printed
    assert "departure_curves + report: skipped departure_curves (needs departure_folds" in out
    assert "report: ok" in out
    report = environment / "work" / "report.html"
    assert report.exists() and "What this report cannot show" in report.read_text()
    assert f"Report: {report}" in out and "Skipped experiments" in out
    assert "demo finished with" in err


def test_verbose_prints_the_traceback(failing_run, capsys):
    code, _, err = _demo([*failing_run, "--verbose"], capsys)
    assert code == 2
    assert "departure_folds failed: the subscribers file has no column msisdn." in err
    assert "Traceback of departure_folds" in err and "Stack Trace" in err
    assert "_fail_departure_folds" in err  # the frame that raised


def test_explain_finds_the_innermost_input_error():
    """Dagster wraps the exception the asset raised; the paragraph is the innermost
    InputError's, or the class and first line of the raised exception, digits masked."""
    from dagster_shared.error import SerializableErrorInfo

    def info(cls, message, cause=None):
        return SerializableErrorInfo(f"pkg.{cls}: {message}\n", [], cls, cause=cause)

    inner = info("MappingError", InputError("bad column", "f.csv, row 3", "rename it").args[0])
    wrapped = info("DagsterExecutionStepExecutionError", "Error occurred while executing op",
                   info("RuntimeError", "reading failed", inner))
    assert explain(wrapped) == ("bad column. Where: f.csv, row 3. Fix: rename it.", True)
    raw = info("DagsterExecutionStepExecutionError", "Error occurred",
               info("ConversionException", "Could not convert '13800138000' to INT\nLINE 1"))
    assert explain(raw) == ("ConversionException: Could not convert '<number>' to INT", False)
    # a run of zeros is no one's number, kept (the hint's "(U, -1, 00000000)" was masked); a
    # run that reads as a date may be one (a US number 201 212 1212)
    raw = info("DagsterExecutionStepExecutionError", "Error occurred",
               info("ValueError", "a code for unknown (U, -1, 00000000) from 2012121212"))
    assert explain(raw) == ("ValueError: a code for unknown (U, -1, 00000000) from <number>",
                            False)
    # DuckDB out of its memory: what to raise (probe 24 F3)
    raw = info("DagsterExecutionStepExecutionError", "Error occurred", info(
        "OutOfMemoryException", "sql/reports/findings.sql: Out of Memory Error: failed to pin "
        "block of size 256.0 KiB (38.0 MiB/38.1 MiB used)"))
    text, is_input = explain(raw)
    assert not is_input and text.startswith("OutOfMemoryException: sql/reports/findings.sql: Out")
    assert text.endswith("Fix: raise duckdb.memory_limit in the study config (the models' "
                         "steps: duckdb.models_memory_limit), or free memory on the machine.")


def test_kept_event_log_connections_store_the_same_events_on_fewer_connections(tmp_path):
    """The main job's runs keep their SQLite connections to the run history open: a run
    stores the same events as with Dagster's storage as shipped (a connection per event), on
    one connection to its run's file, and the storage is as shipped again on the way out."""
    from collections import Counter

    import dagster as dg
    import sqlalchemy

    from migrant_assets.runs import kept_event_log_connections

    checks = [dg.AssetCheckSpec(f"c{i}", asset="a") for i in range(3)]

    @dg.asset(check_specs=checks)
    def a(context):
        context.log.info("a line")
        yield dg.Output(1)
        for i in range(3):
            yield dg.AssetCheckResult(check_name=f"c{i}", passed=i != 1)

    job = dg.Definitions(assets=[a]).resolve_implicit_global_asset_job_def()
    opened: list[str] = []

    def count(dbapi_connection, _record):
        opened.append(dbapi_connection.execute("PRAGMA database_list").fetchone()[2])

    sqlalchemy.event.listen(sqlalchemy.engine.Engine, "connect", count)
    try:
        with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
            runs, runs_table = {}, {}
            for kept in (False, True):
                start = len(opened)
                if kept:
                    with kept_event_log_connections(instance):
                        result = job.execute_in_process(instance=instance)
                else:
                    result = job.execute_in_process(instance=instance)
                assert result.success
                during = Counter(Path(f).name for f in opened[start:] if "/runs/" in f)
                runs_table[kept] = sum(f.endswith("runs.db") for f in opened[start:])
                records = instance.get_records_for_run(result.run_id, limit=10_000).records
                runs[kept] = ([r.event_log_entry.dagster_event_type for r in records], during)
                check_states = {e.check_name: e.passed
                                for e in result.get_asset_check_evaluations()}
                assert check_states == {"c0": True, "c1": False, "c2": True}
            assert "_connect" not in vars(instance.event_log_storage)
            assert "connect" not in vars(instance.run_storage)
    finally:
        sqlalchemy.event.remove(sqlalchemy.engine.Engine, "connect", count)
    assert runs[True][0] == runs[False][0]  # the same events, in the same order
    assert len(runs[False][0]) > 20
    # as shipped: a connection per event stored (the run's file) or mirrored (the index)
    assert sum(runs[False][1].values()) > len(runs[False][0])
    # kept: the run's own file gets one connection (and one to inspect it when it is made);
    # the index one, and one per asset event for Dagster's check that a table exists
    run_file = [n for n in runs[True][1] if n != "index.db"]
    assert len(run_file) == 1 and runs[True][1][run_file[0]] <= 2
    assert sum(runs[True][1].values()) < len(runs[True][0]) / 2
    assert runs_table[True] == 1 < runs_table[False]  # the runs table: one kept connection


def test_quick_event_log_skips_fsync_under_the_dagster_home_only(tmp_path, monkeypatch):
    """The demo's run history is written without an fsync per event; other SQLite files keep
    theirs, and MIGRANT_ASSETS_DURABLE_EVENT_LOG=1 keeps it everywhere."""
    import sqlalchemy

    from migrant_assets.runs import DURABLE_ENV, quick_event_log

    def synchronous(path) -> int:
        engine = sqlalchemy.create_engine(f"sqlite:///{path}",
                                          poolclass=sqlalchemy.pool.NullPool)
        with engine.connect() as c:
            return c.exec_driver_sql("PRAGMA synchronous").scalar()

    home, elsewhere = tmp_path / "home", tmp_path / "elsewhere"
    home.mkdir()
    elsewhere.mkdir()
    monkeypatch.setenv(DURABLE_ENV, "1")
    assert quick_event_log(home) is False
    assert synchronous(home / "runs.db") == 2  # FULL, SQLite's default
    monkeypatch.delenv(DURABLE_ENV)
    assert quick_event_log(home) is True
    assert synchronous(home / "runs.db") == 0  # OFF
    assert synchronous(elsewhere / "other.db") == 2


def test_a_failed_error_check_prints_what_to_check_and_exits_3(environment, monkeypatch, capsys):
    """Every run succeeds, but a check of severity ERROR fails (every cell outside the city's
    box, so all are quarantined): the run's line says what to check first, and the demo exits
    3 with the same hint (the outputs exist, but from data that failed a check)."""
    import dagster as dg

    from migrant_assets.runs import Step

    src = environment / "operator"
    src.mkdir()
    (src / "towers.csv").write_text("tower,latitude,longitude\nT1,10.0,10.0\nT2,11.0,11.0\n")
    (src / "cdr.csv").write_text("a,b,begin,finish\n")
    (src / "subs.csv").write_text("msisdn,local\n")
    (src / "mapping.yaml").write_text(yaml.safe_dump({
        "calls": {"path": "cdr.csv", "columns": {"caller": "a", "callee": "b",
                                                 "start_ts": "begin", "end_ts": "finish"}},
        "subscribers": {"path": "subs.csv", "columns": {"number": "msisdn",
                                                        "is_local_number": "local"}},
        "cells": {"path": "towers.csv", "columns": {"cell_id": "tower", "lat": "latitude",
                                                    "lon": "longitude"}}}))
    config = environment / "study.yaml"
    config.write_text(yaml.safe_dump({"source": {"kind": "files",
                                                 "mapping": str(src / "mapping.yaml")},
                                      "workdir": str(environment / "work"),
                                      "city": dict(SHANGHAI)}))
    monkeypatch.setattr("migrant_assets.runs.main_plan",
                        lambda defs, **_: [Step((dg.AssetKey("cells"),))])
    code, out, err = _demo(["demo", "--config", str(config)], capsys)
    assert code == 3, out + err
    assert "check cells.quarantine_share did not pass (ERROR): check first outside_bbox: " in out
    assert "1 check(s) of severity ERROR on the ingested tables did not pass" in err
    assert "  cells.quarantine_share: outside_bbox: " in err


def test_a_failed_blocking_check_stops_what_reads_its_asset(environment, monkeypatch, capsys):
    """A mapping that puts a column of other owners' ids (an account's parent, short account
    numbers: ids of letters and digits are a bad attribute, never stored) into the birth
    province column: the subscribers are written, but their blocking no_raw_identifiers check
    fails. The demo names that check (not
    Dagster's bare "1 blocking asset check failed"), skips landed_calls, which reads the
    subscribers, and exits 2 (an input problem)."""
    import dagster as dg

    from migrant_assets.runs import Step

    src = environment / "operator"
    src.mkdir()
    (src / "cdr.csv").write_text("a,b,begin,finish\n13800000001,13800000002,"
                                 "2016-09-05 10:00:00,2016-09-05 10:01:00\n")
    (src / "subs.csv").write_text("msisdn,owner,parent,local\n13800000001,490173,490239,true\n"
                                  "13800000002,490239,490173,true\n")
    (src / "mapping.yaml").write_text(yaml.safe_dump({
        "calls": {"path": "cdr.csv", "columns": {"caller": "a", "callee": "b",
                                                 "start_ts": "begin", "end_ts": "finish"}},
        "subscribers": {"path": "subs.csv", "columns": {
            "number": "msisdn", "owner_id": "owner", "birth_province": "parent",
            "is_local_number": "local"}}}))
    config = environment / "study.yaml"
    config.write_text(yaml.safe_dump({"source": {"kind": "files",
                                                 "mapping": str(src / "mapping.yaml")},
                                      "workdir": str(environment / "work"),
                                      "city": dict(SHANGHAI)}))
    monkeypatch.setattr("migrant_assets.runs.main_plan", lambda defs, **_: [
        Step((dg.AssetKey("subscribers"),)), Step((dg.AssetKey("landed_calls"),))])
    code, out, err = _demo(["demo", "--config", str(config)], capsys)
    assert code == 2, out + err
    assert "the blocking check subscribers.no_raw_identifiers did not pass" in err
    assert "wrong contract column" in out + err  # what to check first
    assert ("landed_calls: skipped landed_calls (needs subscribers, which did not materialize "
            "or failed a blocking check)") in out
    assert "490173" not in out + err and "490239" not in out + err


def test_a_short_key_stops_before_any_run(environment, monkeypatch, capsys):
    monkeypatch.setenv("MIGRANT_ASSETS_KEY", "short")
    (environment / "mapping.yaml").write_text(yaml.safe_dump(
        {"calls": {"path": "*.csv"}, "subscribers": {"path": "*.csv"}}))
    config = environment / "study.yaml"
    config.write_text(yaml.safe_dump({"source": {"kind": "files",
                                                 "mapping": str(environment / "mapping.yaml")},
                                      "workdir": str(environment / "work"),
                                      "city": dict(SHANGHAI)}))
    (environment / "x.csv").write_text("a\n")
    code, out, err = _demo(["demo", "--config", str(config)], capsys)
    assert code == 2
    assert err.startswith("demo stopped: MIGRANT_ASSETS_KEY is shorter than 32 bytes")
    assert ": ok in" not in out  # no run started


def test_recover_refuses_a_dagster_home_where_nothing_ran(environment, capsys):
    """`migrant-assets recover` under a mistyped DAGSTER_HOME says no instance ran there (exit 2)
    and creates nothing, instead of an empty instance whose pool slot it would call free."""
    typo = environment / "dagster_hom"
    os.environ["DAGSTER_HOME"] = str(typo)  # restored by the fixture's monkeypatch
    code, _, err = _demo(["recover"], capsys)
    assert code == 2 and not typo.exists()
    assert err.startswith(f"recover stopped: no Dagster instance is in {typo}")
    assert "Where: DAGSTER_HOME." in err


def test_a_spill_folder_that_cannot_be_made_names_its_setting(environment, capsys):
    """A duckdb.temp_directory that cannot be created (a file stands in its path) is a bad
    input naming the setting, not a bare FileNotFoundError of every step."""
    import duckdb

    from migrant_assets.config import DuckDBSettings
    from migrant_assets.db import configure

    blocker = environment / "not_a_folder"
    blocker.write_text("")
    with pytest.raises(InputError, match="spill folder .* cannot be created") as info:
        configure(duckdb.connect(), DuckDBSettings(), blocker / "tmp")
    assert info.value.where == "duckdb.temp_directory"


def test_a_long_run_says_it_is_still_running():
    """A run of the main job lasting minutes is not silent (probe 25: four minutes of a month's
    landing without a line): a line every interval with the time so far, none once it ends."""
    lines: list[str] = []
    begun = time.perf_counter()
    with still_running("landed_calls + cell_prices", 0.2, lines.append):
        time.sleep(0.9)
    lasted = time.perf_counter() - begun
    said = len(lines)
    time.sleep(0.5)
    assert len(lines) == said and 1 <= said <= lasted / 0.2, lines  # none after the end
    seconds = [int(re.fullmatch(r"    landed_calls \+ cell_prices: still running, (\d+) s so "
                                r"far", line).group(1)) for line in lines]
    assert seconds == sorted(seconds) and seconds[-1] <= round(lasted)
