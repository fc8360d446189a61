"""Re-runs on changing data (migrant_assets/lineage.py): a source file corrected, added or
removed, a table materialized again with other rows, or a setting changed, is named before
anything reads what it made out of date; an identical re-run changes nothing."""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

import dagster as dg
import duckdb
import pytest
import yaml

from migrant_assets import lineage
from migrant_assets.config import StudyConfig
from migrant_assets.contract import contract_for
from migrant_assets.db import quote
from migrant_assets.errors import InputError
from migrant_assets_tests.test_ingest import DAY, REFERENCE, env, user_data  # noqa: F401

DAY_KEY = DAY.isoformat()


def _run(cfg_path: Path, instance: dg.DagsterInstance, *names: str,
         partition: str | None = None) -> str | None:
    """Materialize the named assets of the code location; the error of a failed step, else
    None."""
    from migrant_assets.defs import graphs as graph_defs
    from migrant_assets.defs import ingest as ingest_defs
    from migrant_assets.defs import labels as label_defs
    from migrant_assets.defs.resources import StudyResource

    assets = [getattr(ingest_defs, n, None) or getattr(label_defs, n, None)
              or getattr(graph_defs, n) for n in names]
    result = dg.materialize(assets, resources={"study": StudyResource(config_path=str(cfg_path))},
                            instance=instance, partition_key=partition, raise_on_error=False)
    failures = [e.step_failure_data.error for e in result.all_events if e.is_step_failure]
    if not failures:
        assert result.success
        return None
    return "\n".join(str(f.cause.message if f.cause else f.message) for f in failures)


def test_a_changed_file_or_table_is_named_before_it_is_read(
        user_data: Path, env: None) -> None:  # noqa: F811 -- the fixtures of test_ingest
    instance = dg.DagsterInstance.ephemeral()
    assert _run(user_data, instance, *REFERENCE) is None
    assert _run(user_data, instance, "calls", partition=DAY_KEY) is None
    assert _run(user_data, instance, "calls", partition="2016-09-06") is None  # a day of no call
    assert _run(user_data, instance, "user_labels") is None
    day_file = user_data.parent / "operator" / "cdr" / "20160905.csv"
    before = day_file.read_bytes()

    # the files are known by an HMAC of their path under the key, never by a plain hash,
    # which hashing the numbers one by one gives back when a file is named by one; an earlier
    # version's plain hashes are replaced where they are read, the files unchanged
    cfg = StudyConfig.load(user_data)
    paths = lineage._source_files(contract_for(cfg), cfg, "calls")
    con = duckdb.connect(str(cfg.duckdb_path))
    keyed = {k for (k,) in con.execute("SELECT path_key FROM source_files").fetchall()}
    assert keyed and all(re.fullmatch(lineage.PATH_KEY, k) for k in keyed)
    plain = {lineage.path_key(p, cfg.pseudonym_key): hashlib.sha256(str(p).encode()).hexdigest()
             for p in paths}
    assert plain.keys() <= keyed and not set(plain.values()) & keyed
    con.executemany("UPDATE source_files SET path_key = ? WHERE path_key = ?",
                    [[old, new] for new, old in plain.items()])
    con.close()
    assert _run(user_data, instance, "calls", partition=DAY_KEY) is None
    con = duckdb.connect(str(cfg.duckdb_path))
    assert {k for (k,) in con.execute("SELECT path_key FROM source_files").fetchall()} == keyed
    con.close()
    # another key: the same files under other path keys are no changed files, and the refusal
    # names the key
    key = os.environ["MIGRANT_ASSETS_KEY"]
    os.environ["MIGRANT_ASSETS_KEY"] = key + " and another"
    try:
        error = _run(user_data, instance, "calls", partition=DAY_KEY)
    finally:
        os.environ["MIGRANT_ASSETS_KEY"] = key
    assert "the pseudonymisation key" in error and "files changed" not in error, error

    # the same bytes written again (a copy, a touch): nothing is out of date
    day_file.write_bytes(before)
    os.utime(day_file, ns=(1, 1))
    assert _run(user_data, instance, "calls", partition=DAY_KEY) is None

    # the day's file corrected: the day is refused until the calls are landed again
    day_file.write_bytes(before.replace(b"13800000001,", b"13800000002,", 1))
    error = _run(user_data, instance, "calls", partition=DAY_KEY)
    assert "InputError: the calls files changed since landed_calls read them (1 changed: the " \
        "file of 2016-09-05)" in error, error
    assert "materialize landed_calls again" in error
    assert "13800000001" not in error and "20160905" not in error  # never a number or a name
    assert _run(user_data, instance, "landed_calls") is None
    # the labels read the day's calls, built from the day's landed rows as they were
    error = _run(user_data, instance, "user_labels")
    assert "calls (2016-09-05) is out of date: since it was built, landed_calls (2016-09-05) " \
        "changed" in error, error
    # a day whose landed rows did not change is up to date: only the corrected day is built
    assert _run(user_data, instance, "calls", partition="2016-09-06") is None
    assert _run(user_data, instance, "calls", partition=DAY_KEY) is None
    assert _run(user_data, instance, "user_labels") is None
    # a digit fixed in place (the same size) and the old modification time put back (`touch
    # -r`, `cp -p`, `rsync -a`): a changed file all the same (probe 24 F1); the bytes put back
    # as they were landed: nothing changed
    landed, st = day_file.read_bytes(), day_file.stat()
    day_file.write_bytes(landed.replace(b"13800000002,", b"13800000003,", 1))
    os.utime(day_file, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert (day_file.stat().st_size, day_file.stat().st_mtime_ns) == (st.st_size, st.st_mtime_ns)
    error = _run(user_data, instance, "calls", partition=DAY_KEY)
    assert "files changed since landed_calls read them (1 changed: the file of 2016-09-05)" \
        in error, error
    day_file.write_bytes(landed)
    os.utime(day_file, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert _run(user_data, instance, "calls", partition=DAY_KEY) is None
    # its new stamp kept: the next step does not read the file again
    con = duckdb.connect(str(cfg.duckdb_path))
    stamps = {m for (m,) in con.execute(
        "SELECT modified FROM source_files WHERE source = 'calls'").fetchall()}
    con.close()
    assert lineage.stamp(day_file.stat()) in stamps

    # a file that appears, and one that is gone
    extra = user_data.parent / "operator" / "cdr" / "20160906.csv"
    extra.write_text(day_file.read_text().replace("2016-09-05", "2016-09-06"))
    assert "(1 new: the file of 2016-09-06)" in _run(user_data, instance, "user_labels")
    # a day reads the files its path names: another day's new file does not concern it
    assert _run(user_data, instance, "calls", partition=DAY_KEY) is None
    assert "(1 new: the file of 2016-09-06)" in _run(user_data, instance, "calls",
                                                     partition="2016-09-06")
    extra.unlink()
    assert _run(user_data, instance, "user_labels") is None  # as it was landed
    day_file.unlink()
    assert "(1 gone: the file of 2016-09-05)" in _run(user_data, instance, "calls",
                                                      partition=DAY_KEY)


def test_an_asset_whose_input_was_never_materialized_is_refused(
        user_data: Path, env: None) -> None:  # noqa: F811 -- the fixtures of test_ingest
    """Dagster materializes any asset alone: one read before its inputs exist (the calls
    landed before the cells, whose ids they are matched with; a day of calls before the
    landing; the labels before any day of calls) is refused, naming what to materialize first,
    instead of holding every call quarantined or none (and never judged out of date after)."""
    instance = dg.DagsterInstance.ephemeral()
    error = _run(user_data, instance, "landed_calls")
    assert "InputError: landed_calls reads cells, subscribers, which have not been " \
        "materialized in this study's DuckDB file yet" in error, error
    assert "materialize cells, subscribers first" in error
    error = _run(user_data, instance, "calls", partition=DAY_KEY)
    assert "calls reads cells, landed_calls, subscribers, which have not been materialized" \
        in error, error
    assert _run(user_data, instance, "subscribers", "cells", "estates") is None
    assert _run(user_data, instance, "landed_calls") is None
    # the ingestion's schema made the calls table, empty: read before a day is built, refused
    error = _run(user_data, instance, "user_labels")
    assert "user_labels reads calls, which has not been materialized" in error, error
    assert _run(user_data, instance, "calls", partition=DAY_KEY) is None
    con = duckdb.connect(str(StudyConfig.load(user_data).duckdb_path), read_only=True)
    landed, kept, unknown_cell = con.execute(
        "SELECT (SELECT count(*) FROM landed_calls WHERE call_date = $day), "
        "(SELECT count(*) FROM calls WHERE call_date = $day), "
        "(SELECT count(*) FROM quarantine_calls WHERE reason = 'unknown_cell')",
        {"day": DAY}).fetchone()
    con.close()
    # the fixture's one call of an unknown cell, not every call of the day
    assert kept > 0 and unknown_cell < kept and landed >= kept + unknown_cell
    # a partition reads each partition of its input it maps to: a day's contacts before that
    # day's calls, a week's graph before some of its days' contacts are refused, by name
    assert _run(user_data, instance, "user_labels") is None
    error = _run(user_data, instance, "daily_contacts", partition="2016-09-06")
    assert "daily_contacts (2016-09-06) reads calls (2016-09-06), which has not been " \
        "materialized" in error, error
    assert _run(user_data, instance, "calls", partition="2016-09-06") is None
    assert _run(user_data, instance, "daily_contacts", partition="2016-09-06") is None
    error = _run(user_data, instance, "departure_week_graph", partition=DAY_KEY)
    assert "departure_week_graph (2016-09-05) reads daily_contacts (2016-09-05, 2016-09-07, " \
        "2016-09-08 and 3 more), which have not been materialized" in error, error
    assert "materialize daily_contacts (2016-09-05, 2016-09-07, 2016-09-08 and 3 more) first" \
        in error


def test_a_file_the_mapping_leaves_out_is_nothing_to_wait_for(
        user_data: Path, env: None) -> None:  # noqa: F811 -- the fixtures of test_ingest
    """A study without a cells file (docs/data_contract.md: cells may be left out): its calls
    are landed once the subscribers are, whether or not the (empty) cells were materialized."""
    mapping_path = user_data.parent / "operator" / "mapping.yaml"
    mapping = yaml.safe_load(mapping_path.read_text())
    del mapping["cells"]
    mapping_path.write_text(yaml.safe_dump(mapping))
    instance = dg.DagsterInstance.ephemeral()
    error = _run(user_data, instance, "landed_calls")
    assert "landed_calls reads subscribers, which has not been materialized" in error, error
    assert _run(user_data, instance, "subscribers") is None
    assert _run(user_data, instance, "landed_calls") is None
    assert _run(user_data, instance, "calls", partition=DAY_KEY) is None
    con = duckdb.connect(str(StudyConfig.load(user_data).duckdb_path), read_only=True)
    kept, cells = con.execute(
        "SELECT (SELECT count(*) FROM calls), (SELECT count(*) FROM cells)").fetchall()[0]
    con.close()
    assert kept > 0 and cells == 0


def test_a_partition_never_materialized_is_named_to_every_reader_but_the_labels(
        tmp_path: Path) -> None:
    """Plain functions: of an input whose other partitions are recorded, a partition never
    materialized refuses a partitioned reader and an unpartitioned one (Figure 8's curves
    without k = 3); the labels, which name the days without calls themselves, and the report
    are built; an input with no partition recorded (a file from before versions) is built."""
    con = duckdb.connect()
    cfg = _cfg(tmp_path)
    k4 = lineage.Target("departure_models", "2016-09-08", "models", ())
    lineage.record(con, lineage.plan(con, cfg, None, [k4]))
    models = (("departure_models", "departure_models"),)
    both = (("departure_models", "2016-09-07"), ("departure_models", "2016-09-08"))
    curves = lineage.Target("departure_curves", None, "models", both, required=models)
    with pytest.raises(InputError, match=r"departure_curves reads departure_models "
                       r"\(2016-09-07\), which has not been materialized in this study's "
                       r"DuckDB file yet.*Fix: materialize departure_models \(2016-09-07\) "
                       r"first"):
        lineage.plan(con, cfg, None, [curves])
    transfer = lineage.Target("departure_transfer", "2016-09-08", "models", both,
                              required=models)
    with pytest.raises(InputError, match=r"departure_transfer \(2016-09-08\) reads "
                       r"departure_models \(2016-09-07\)"):
        lineage.plan(con, cfg, None, [transfer])
    for exempt in ("report", "user_labels"):
        lineage.plan(con, cfg, None, [lineage.Target(exempt, None, "reports", both,
                                                     required=models)])
    days = (("calls", "2016-09-05"), ("calls", "2016-09-06"))
    con.execute("CREATE TABLE calls AS SELECT 1 AS call_id")  # written outside Dagster
    lineage.plan(con, cfg, None, [lineage.Target("whole_period_graph", "2016-09-01", "graphs",
                                                 days, required=(("calls", "calls"),))])
    k3 = lineage.Target("departure_models", "2016-09-07", "models", ())
    lineage.record(con, lineage.plan(con, cfg, None, [k3]))
    lineage.plan(con, cfg, None, [curves, transfer])


def _cfg(tmp_path: Path, **changes) -> StudyConfig:
    study = {"city": {"province": "Shanghai", "timezone": "Asia/Shanghai"},
             "workdir": str(tmp_path), **changes}
    path = tmp_path / f"study{len(list(tmp_path.glob('study*.yaml')))}.yaml"
    path.write_text(yaml.safe_dump(study))
    return StudyConfig.load(path)


def test_a_file_of_a_day_the_calendar_no_longer_has_is_named_so(
        user_data: Path, env: None) -> None:  # noqa: F811 -- the fixtures of test_ingest
    """A month that ends two days earlier leaves the last day's file out of the files read: the
    refusal said the file was gone; it says its day left the calendar. A month that starts a
    day later still matches the file of the day before it (a day's file may hold calls of the
    day before): the refusal said a file was new; it names the calendar (probe 36 L1)."""
    instance = dg.DagsterInstance.ephemeral()
    cdr = user_data.parent / "operator" / "cdr"
    for day in ("01", "30"):
        (cdr / f"201609{day}.csv").write_text(
            (cdr / "20160905.csv").read_text().replace("2016-09-05", f"2016-09-{day}"))
    assert _run(user_data, instance, *REFERENCE) is None
    assert _run(user_data, instance, "calls", partition=DAY_KEY) is None
    assert _run(user_data, instance, "user_labels") is None
    study = yaml.safe_load(user_data.read_text())
    weeks = ["2016-09-01", "2016-09-08", "2016-09-15", "2016-09-22"]  # W4 inside the month
    for name, calendar in (("later", {"month_start": "2016-09-02"}),
                           ("shorter", {"month_end": "2016-09-28", "integration_weeks": weeks})):
        path = user_data.parent / f"{name}.yaml"
        path.write_text(yaml.safe_dump({**study, "calendar": {**study.get("calendar", {}),
                                                               **calendar}}))
        error = _run(path, instance, "calls", partition="2016-09-06")
        assert "files changed" not in error and "settings changed: calendar" in error, error
    # what read the last day (the early warning's models read every day): its file is not
    # gone, its day left the calendar
    cfg = StudyConfig.load(path)
    con = duckdb.connect(str(cfg.duckdb_path))
    try:
        assert lineage._changed_sources(con, cfg, contract_for(cfg), {"calls": None}) == {
            "calls": "1 of a day the calendar no longer has: the file of 2016-09-30"}
    finally:
        con.close()


def test_settings_a_stage_reads_make_its_tables_out_of_date(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Plain functions: the versions of two steps, and a third that reads them."""
    con = duckdb.connect()
    monkeypatch.delenv("MIGRANT_ASSETS_KEY", raising=False)
    base = _cfg(tmp_path)
    ingest = lineage.settings_version(base, "ingest")
    monkeypatch.setenv("MIGRANT_ASSETS_KEY", "another key gives other pseudonyms")
    assert lineage.settings_version(base, "ingest") != ingest
    assert lineage.settings_version(base, "labels") == lineage.settings_version(
        _cfg(tmp_path), "labels")
    monkeypatch.delenv("MIGRANT_ASSETS_KEY")
    labels = lineage.Target("user_labels", None, "labels", (("calls", "2016-09-05"),))
    day = lineage.Target("calls", "2016-09-05", "ingest", (("landed_calls", None),))
    reader = lineage.Target("whole_period_graph", "2016-09-01", "graphs",
                            (("calls", "2016-09-05"), ("user_labels", None)))
    first = lineage.plan(con, base, None, [day])
    lineage.record(con, first)
    lineage.record(con, lineage.plan(con, base, None, [labels]))
    again = lineage.plan(con, base, None, [day])
    assert again.rows == first.rows  # the same inputs give the same version
    lineage.plan(con, base, None, [reader])

    # a setting no stage reads (an asset check's threshold): nothing is out of date
    lineage.plan(con, _cfg(tmp_path, checks={"min_positives": 5}), None, [reader])
    # one the labels read: the labels are out of date, and the graph's own settings are not
    changed = _cfg(tmp_path, thresholds={"max_degree": 100})
    assert lineage.settings_version(changed, "graphs") == lineage.settings_version(base, "graphs")
    with pytest.raises(InputError, match=r"user_labels is out of date: since it was built, the "
                       r"labels settings changed: thresholds.max_degree\. Where"):
        lineage.plan(con, changed, None, [reader])
    # the days' coverage rule, which withholds labels (it was untracked: new labels, silently)
    with pytest.raises(InputError, match=r"user_labels is out of date: since it was built, the "
                       r"labels settings changed: thresholds.min_day_share\. Where"):
        lineage.plan(con, _cfg(tmp_path, thresholds={"min_day_share": 0.5}), None, [reader])
    # the key of the environment, which no config shows, is named as such
    monkeypatch.setenv("MIGRANT_ASSETS_KEY", "another key gives other pseudonyms")
    with pytest.raises(InputError, match=r"calls \(2016-09-05\), user_labels are out of date: "
                       r"since they were built, the ingest settings changed: the "
                       r"pseudonymisation key \(MIGRANT_ASSETS_KEY in the environment") as info:
        lineage.plan(con, base, None, [reader])
    # the labels read the day: the day first (the user is not refused again one level up)
    assert "materialize calls (2016-09-05) again first, then what reads it, up to " \
        "user_labels (each" in str(info.value), str(info.value)
    monkeypatch.delenv("MIGRANT_ASSETS_KEY")
    # the source: a synthetic city's seed here; for a files study, its mapping's path (a study
    # moved to another folder), which the message names (probe 24 F5)
    with pytest.raises(InputError, match=r"the ingest settings changed: source \(a synthetic "
                       r"city's settings, or the mapping file's path: the same files moved"):
        lineage.plan(con, _cfg(tmp_path, source={"kind": "synthetic", "seed": 7}), None,
                     [reader])
    # a version recorded before settings_versions was: every setting of the stage is listed
    con.execute("DELETE FROM settings_versions")
    with pytest.raises(InputError, match=r"user_labels is out of date: since it was built, the "
                       r"study config's labels settings \(calendar, population, "
                       r"thresholds.max_degree, thresholds.min_day_share, "
                       r"thresholds.dense_day_calls\) changed"):
        lineage.plan(con, changed, None, [reader])
    # the labels built again under it: what reads them may be built
    lineage.record(con, lineage.plan(con, changed, None, [labels]))
    lineage.plan(con, changed, None, [reader])

    # the day built again from other landed rows: the labels built before it are out of date
    # (and built while the landing had no version: it has one now)
    con.execute("INSERT INTO built_from VALUES ('landed_calls', '', 'v2', '{}')")
    lineage.record(con, lineage.plan(con, changed, None, [day]))
    with pytest.raises(InputError, match=r"user_labels is out of date: since it was built, "
                       r"calls \(2016-09-05\), landed_calls changed"):
        lineage.plan(con, changed, None, [reader])
    lineage.record(con, lineage.plan(con, changed, None, [labels]))
    lineage.record(con, lineage.plan(con, changed, None, [reader]))

    # three levels: a feature of the graph, after a change of the key the day was read with:
    # the refusal names the day, the deepest out of date, not only the graph it reads
    features = lineage.Target("features_whole_period", "2016-09-01", "features",
                              (("whole_period_graph", "2016-09-01"),))
    lineage.plan(con, changed, None, [features])
    monkeypatch.setenv("MIGRANT_ASSETS_KEY", "another key gives other pseudonyms")
    with pytest.raises(InputError, match=r"whole_period_graph \(2016-09-01\) is out of date: "
                       r".*materialize calls \(2016-09-05\) again first, then what reads it, "
                       r"up to whole_period_graph \(2016-09-01\) \(each"):
        lineage.plan(con, changed, None, [features])


def test_the_early_warning_is_out_of_date_after_a_change_of_what_it_read(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Probe 33 F2: the early warning's assets were built from whatever their inputs held. A
    day of its features is now out of date after a change of its settings, or of a day's calls
    it read; a setting of the models only (review 99 H2), or whether the main job runs them
    (``enabled``), is no change of the features. The report says itself that the evaluation
    is out of date (review 99 H1: a main job without the early warning was refused for it)."""
    con = duckdb.connect()
    monkeypatch.delenv("MIGRANT_ASSETS_KEY", raising=False)
    base = _cfg(tmp_path)
    day = lineage.Target("calls", "2016-09-05", "ingest", (("landed_calls", None),))
    features = lineage.Target("features_arrival_days", "2016-09-06", "features_arrival_days",
                              (("calls", "2016-09-05"), ("calls", "2016-09-06")))
    risk = lineage.Target("departure_risk", "2016-09-06", "departure_risk",
                          (("features_arrival_days", "2016-09-06"),))
    models = lineage.Target("early_warning_models", None, "early_warning_models",
                            (("features_arrival_days", "2016-09-06"),))
    evaluation = lineage.Target("early_warning_evaluation", None, "early_warning_evaluation",
                                (("early_warning_models", None),))
    lineage.record(con, lineage.plan(con, base, None, [day]))
    lineage.record(con, lineage.plan(con, base, None, [features]))
    lineage.record(con, lineage.plan(con, base, None, [models]))
    lineage.record(con, lineage.plan(con, base, None, [evaluation]))
    lineage.plan(con, base, None, [risk])
    assert lineage.out_of_date(con, base, "early_warning_evaluation") is None
    lineage.plan(con, _cfg(tmp_path, early_warning={"enabled": True}), None, [risk])
    lineage.plan(con, _cfg(tmp_path, models={"n_trees": 7},
                           early_warning={"classifier": "logistic regression"}), None, [risk])
    assert lineage.out_of_date(con, _cfg(tmp_path, models={"n_trees": 7}),
                               "early_warning_evaluation").what == (
        "early_warning_evaluation is out of date: since it was built, the early_warning_models "
        "settings changed: models")
    with pytest.raises(InputError, match=r"features_arrival_days \(2016-09-06\) is out of date: "
                       r"since it was built, the features_arrival_days settings changed: "
                       r"early_warning.horizon_days\. Where"):
        lineage.plan(con, _cfg(tmp_path, early_warning={"horizon_days": 7}), None, [risk])
    with pytest.raises(InputError, match=r"features_arrival_days \(2016-09-06\) is out of date: "
                       r"since it was built, the features_arrival_days settings changed: "
                       r"city.center_lat\. Where"):
        lineage.plan(con, _cfg(tmp_path, city={"province": "Shanghai", "timezone":
                                               "Asia/Shanghai", "center_lat": 31.0}),
                     None, [risk])
    # the day's calls built again from other landed rows
    con.execute("INSERT INTO built_from VALUES ('landed_calls', '', 'v2', '{}')")
    lineage.record(con, lineage.plan(con, base, None, [day]))
    with pytest.raises(InputError, match=r"features_arrival_days \(2016-09-06\) is out of date: "
                       r"since it was built, calls \(2016-09-05\), landed_calls changed"):
        lineage.plan(con, base, None, [risk])


def test_a_day_without_calls_is_no_gap_of_the_early_warning_but_its_contacts_are(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A day of the early warning's features reads every day up to it: a day never built for
    want of calls (a live feed that missed a file) does not stop it, as its scores say which
    days lack calls; a day whose calls were built but not its contacts is a gap, named
    (review 99 M1: it was accepted, the window's graph silently without that day)."""
    con = duckdb.connect()
    monkeypatch.delenv("MIGRANT_ASSETS_KEY", raising=False)
    cfg = _cfg(tmp_path)
    days = ("2016-09-05", "2016-09-06", "2016-09-07")
    for day in days[:2]:
        lineage.record(con, lineage.plan(con, cfg, None, [lineage.Target(
            "calls", day, "ingest", (("landed_calls", None),))]))
    lineage.record(con, lineage.plan(con, cfg, None, [lineage.Target(
        "daily_contacts", days[0], "graphs", (("calls", days[0]),))]))
    features = lineage.Target(
        "features_arrival_days", days[2], "features_arrival_days",
        tuple((a, d) for a in ("calls", "daily_contacts") for d in days),
        required=(("calls", "calls"), ("daily_contacts", "daily_contacts")))
    with pytest.raises(InputError, match=r"features_arrival_days \(2016-09-07\) reads "
                       r"daily_contacts \(2016-09-06\), which has not been materialized"):
        lineage.plan(con, cfg, None, [features])
    lineage.record(con, lineage.plan(con, cfg, None, [lineage.Target(
        "daily_contacts", days[1], "graphs", (("calls", days[1]),))]))
    lineage.plan(con, cfg, None, [features])  # 09-07: no calls file, none built


def test_partitions_the_calendar_no_longer_has_are_dropped_when_their_asset_writes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Probe 33 F1: a later month_start or a smaller k_max leaves partitions the calendar no
    longer has. The next write of their asset drops their rows from each of its tables, and
    their records; the calendar's partitions, and what the asset never recorded, stay."""
    con = duckdb.connect()
    monkeypatch.delenv("MIGRANT_ASSETS_KEY", raising=False)
    cfg = _cfg(tmp_path)
    con.execute("CREATE TABLE calls (call_date DATE, n INTEGER)")
    con.execute("CREATE TABLE quarantine_calls (partition_key VARCHAR)")
    con.execute("CREATE TABLE accounting_calls (partition_key VARCHAR)")
    con.execute("CREATE TABLE features_first_k_days (window_id VARCHAR)")
    con.execute("CREATE TABLE features_first_k_days_sums (window_id VARCHAR)")
    days, ends = ("2016-09-01", "2016-09-02", "2016-09-03"), ("2016-09-07", "2016-09-08")

    def write(asset: str, part: str, every: tuple[str, ...]) -> None:
        lineage.record(con, lineage.plan(con, cfg, None, [lineage.Target(
            asset, part, "ingest" if asset == "calls" else "features", (), partitions=every)]))

    for day in days:
        con.execute("INSERT INTO calls VALUES (?, 1), (?, 2)", [day, day])
        con.execute("INSERT INTO quarantine_calls VALUES (?)", [day])
        write("calls", day, days)
    con.execute("INSERT INTO accounting_calls VALUES ('2016-09-01'), ('2016-09-04')")
    for end in ends:
        con.execute("INSERT INTO features_first_k_days VALUES (?)", [f"first_k_days:{end}"])
        write("features_first_k_days", end, ends)
    con.execute("INSERT INTO features_first_k_days_sums VALUES ('first_k_days:2016-09-08')")

    def parts(asset: str) -> list[str]:
        return [p for (p,) in con.execute("SELECT part FROM built_from WHERE asset = ? "
                                          "ORDER BY part", [asset]).fetchall()]

    def column(table: str) -> list[str]:
        return sorted(str(v) for (v,) in con.execute(f"SELECT * FROM {quote(table)}").fetchall()
                      if v is not None)

    # the month starts a day later: writing the 3rd drops the 1st, in every table of calls
    write("calls", "2016-09-03", days[1:])
    assert sorted(str(d) for (d,) in con.execute("SELECT call_date FROM calls").fetchall()) \
        == ["2016-09-02"] * 2 + ["2016-09-03"] * 2
    assert column("quarantine_calls") == ["2016-09-02", "2016-09-03"]
    assert column("accounting_calls") == ["2016-09-04"]  # never recorded: not calls' to drop
    assert parts("calls") == ["2016-09-02", "2016-09-03"]
    # k_max one smaller: k's window and its saved sums go, k - 1's stays
    write("features_first_k_days", "2016-09-07", ends[:1])
    assert column("features_first_k_days") == ["first_k_days:2016-09-07"]
    assert column("features_first_k_days_sums") == []
    assert parts("features_first_k_days") == ["2016-09-07"]
    # the same calendar again: nothing else goes
    write("calls", "2016-09-02", days[1:])
    assert con.execute("SELECT count(*) FROM calls").fetchone()[0] == 4

    # the early warning (probe 33 F2): a window 'arrival_days:<arrival>/<end>' is of partition
    # <end>, whatever its arrival day; the daily sums of a day the month no longer has go too
    con.execute("CREATE TABLE features_arrival_days (window_id VARCHAR)")
    con.execute("CREATE TABLE arrival_days_windows (end_day DATE)")
    con.execute("CREATE TABLE arrival_days_daily_sums (call_date DATE)")
    ids = ["arrival_days:2016-09-07/2016-09-07", "arrival_days:2016-09-05/2016-09-08",
           "arrival_days:2016-09-08/2016-09-08"]
    con.executemany("INSERT INTO features_arrival_days VALUES (?)", [[i] for i in ids])
    con.executemany("INSERT INTO arrival_days_windows VALUES (?)", [[i[-10:]] for i in ids])
    con.executemany("INSERT INTO arrival_days_daily_sums VALUES (?)", [[e] for e in ends])
    for end in ends:
        lineage.record(con, lineage.plan(con, cfg, None, [lineage.Target(
            "features_arrival_days", end, "features_arrival_days", (), partitions=ends)]))
    lineage.record(con, lineage.plan(con, cfg, None, [lineage.Target(
        "features_arrival_days", ends[0], "features_arrival_days", (),
        partitions=ends[:1])]))
    assert column("features_arrival_days") == ids[:1]
    assert column("arrival_days_windows") == column("arrival_days_daily_sums") == [ends[0]]
    assert parts("features_arrival_days") == [ends[0]]


def test_a_changed_subscriber_names_the_landing_first(
        user_data: Path, env: None) -> None:  # noqa: F811 -- the fixtures of test_ingest
    """An age changed in the subscribers file: the labels, which read the days' calls, built
    from the landing, built from the subscribers, name the landing to materialize first, not
    the days, which would be refused in turn (probe 24 F4)."""
    instance = dg.DagsterInstance.ephemeral()
    assert _run(user_data, instance, *REFERENCE) is None
    assert _run(user_data, instance, "calls", partition=DAY_KEY) is None
    assert _run(user_data, instance, "calls", partition="2016-09-06") is None
    assert _run(user_data, instance, "user_labels") is None
    subs = user_data.parent / "operator" / "subs.csv"
    header, first, *rest = subs.read_text().splitlines()
    fields = first.split(",")
    fields[2] = str(int(fields[2]) + 1)  # the age
    subs.write_text("\n".join([header, ",".join(fields), *rest]) + "\n")
    assert _run(user_data, instance, "subscribers") is None
    error = _run(user_data, instance, "user_labels")
    assert "materialize landed_calls again first, then what reads it, up to calls " \
        "(2016-09-05, 2016-09-06)" in error, error
    assert _run(user_data, instance, "landed_calls") is None  # and so on, as it says
    for day in (DAY_KEY, "2016-09-06"):
        assert _run(user_data, instance, "calls", partition=day) is None
    assert _run(user_data, instance, "user_labels") is None
