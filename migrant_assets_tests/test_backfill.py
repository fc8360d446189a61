"""A partition backfill of `departure_models` over two first-k-days windows, launched through the
webserver's GraphQL `launchPartitionBackfill` as the UI does, completes with no DuckDB lock
error, in one run (the asset's single-run backfill policy; were there several, the `duckdb` pool,
limit 1 in dagster.yaml, would serialise them).
Then the automation (issue 12) takes over: `departure_curves`, which reads every k, is stale and
re-materialized by the `keep_results_fresh` sensor, and after it the `report`.

It runs beside the rest of the suite (``background.Job``) on a copy of the session's `tiny` demo:
its work directory and Dagster instance as the demo left them.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from migrant_assets.config import PROJECT_ROOT
from migrant_assets_tests import background

TIMEOUT_S = 600  # two runs, one at a time through the duckdb pool, then the automation


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _graphql(port: int, query: str, variables: dict | None = None) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query, "variables": variables or {}}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        body = json.loads(response.read())
    assert "errors" not in body, body
    return body["data"]


LAUNCH = """
mutation($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message }
  }
}"""
STATUS = """
query($id: String!) {
  partitionBackfillOrError(backfillId: $id) { ... on PartitionBackfill { status } }
  runsOrError(filter: {tags: [{key: "dagster/backfill", value: $id}]}) {
    ... on Runs { results { runId status } }
  }
}"""


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _start(args: list[str], env: dict, log) -> subprocess.Popen:
    return subprocess.Popen(
        [str(Path(sys.executable).parent / args[0]), *args[1:], "-w",
         str(PROJECT_ROOT / "workspace.yaml")],
        cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        # SIGINT as default: a suite started by a script without job control ignores it, and
        # the process would inherit that and never stop on it (killed after 30 s instead)
        preexec_fn=_default_sigint,
    )


def _stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGINT)  # the webserver or daemon stops with its code server
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        pass
    try:  # whatever of its session is left
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


@contextlib.contextmanager
def _webserver(home: Path, config_path: Path, log_path: Path):
    """The Dagster webserver on 127.0.0.1 over a copy of the tiny city's DuckDB file and the
    demo's Dagster instance, and a function that starts the daemon beside it: the two processes
    of `dagster dev`, started one after the other as a deployment runs them. The backfill daemon
    looks for new backfills when it starts and then every 30 s, so the daemon is started once
    the backfill is launched (`dagster dev` would find it up to 30 s later)."""
    port = _free_port()
    env = {**background.clean_env(home), "MIGRANT_ASSETS_CONFIG": str(config_path)}
    log = log_path.open("w")
    procs = [_start(["dagster-webserver", "-h", "127.0.0.1", "-p", str(port)], env, log)]
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if _graphql(port, "{ version }")["version"]:
                    break
            except (OSError, AssertionError):
                time.sleep(1)
        else:
            raise AssertionError(f"the webserver did not start: {log_path.read_text()}")
        yield port, lambda: procs.append(_start(["dagster-daemon", "run"], env, log))
    finally:
        for proc in reversed(procs):
            _stop(proc)
        log.close()


def _backfill(tiny: dict) -> dict:
    """The backfill and the automation after it, on a copy of the `tiny` demo's work directory
    and Dagster instance (the demo's own are read by other tests meanwhile); a background job of
    the session. Returns the runs, when each asset of the automation was updated after them and
    by which sensor, and the windows modelled."""
    copy = background.moved_copy(tiny, "backfill")
    cfg = copy["cfg"]
    every_k = [w.key for w in cfg.calendar.windows("first_k_days")]
    keys = every_k[-2:]  # k = 13, 14
    with _webserver(copy["dagster_home"], copy["config_path"],
                    copy["dagster_home"] / "dagster.log") as (port, start_daemon):
        launched = _graphql(port, LAUNCH, {"params": {
            "assetSelection": [{"path": ["departure_models"]}], "partitionNames": keys,
            "fromFailure": False}})["launchPartitionBackfill"]
        assert launched["__typename"] == "LaunchBackfillSuccess", launched
        backfill = launched["backfillId"]
        start_daemon()  # its backfill daemon takes the backfill at once, its sensors run after

        deadline = time.monotonic() + TIMEOUT_S
        while time.monotonic() < deadline:
            data = _graphql(port, STATUS, {"id": backfill})
            status = data["partitionBackfillOrError"]["status"]
            runs = data["runsOrError"]["results"]
            if status in ("COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED") and \
                    runs and all(r["status"] in ("SUCCESS", "FAILURE", "CANCELED") for r in runs):
                break
            time.sleep(3)
        else:
            raise AssertionError(f"backfill {backfill} did not finish in {TIMEOUT_S} s: "
                                 f"{status}, {runs}")
        # the automation: curves (downstream of every k), then the report (downstream of curves)
        instance = dg.DagsterInstance.from_config(str(copy["dagster_home"]))
        failures = {r["runId"]: _failures(instance, r["runId"])
                    for r in runs if r["status"] != "SUCCESS"}
        ended = [instance.get_run_stats(r["runId"]).end_time for r in runs]
        backfill_end = max(t for t in ended if t is not None) if any(ended) else 0.0
        updated = {}
        succeeded = not failures  # else no automation to wait for
        while succeeded and time.monotonic() < deadline and len(updated) < 2:
            for name in ("departure_curves", "report"):
                event = instance.get_latest_materialization_event(dg.AssetKey(name))
                if event is not None and event.timestamp > backfill_end:
                    updated[name] = event
            time.sleep(3)
        # the DuckDB file, once no run of the sensor holds it (one writing process at a time)
        busy = dg.RunsFilter(statuses=[dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.STARTING,
                                       dg.DagsterRunStatus.STARTED])
        while time.monotonic() < deadline and instance.get_runs(filters=busy):
            time.sleep(3)
        windows = None  # a failed run is reported with its errors, whatever the file holds
        if succeeded:
            con = duckdb.connect(str(cfg.duckdb_path), read_only=True)
            try:
                windows = con.execute(
                    "SELECT count(DISTINCT window_id) FROM model_results "
                    "WHERE experiment = 'leaving_vs_staying'").fetchone()[0]
            finally:
                con.close()
        sensors = {name: instance.get_run_by_id(event.run_id).tags.get("dagster/sensor_name")
                   for name, event in updated.items()}
    return {"every_k": every_k, "runs": runs, "windows": windows, "sensors": sensors,
            "updated": {name: event.timestamp for name, event in updated.items()},
            "failures": failures}


def _failures(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    """What made a run fail, from its event log: each failure event's message and error (the
    test's message when the backfill's run does not succeed, instead of its status alone)."""
    found = []
    for record in instance.all_logs(run_id):
        event = record.dagster_event
        if event is None or not (event.is_step_failure or event.is_run_failure
                                 or event.event_type_value == "ENGINE_EVENT"
                                 and "error" in (record.user_message or "").lower()):
            continue
        error = getattr(event.event_specific_data, "error", None)
        found.append(f"{event.event_type_value} {event.step_key or ''}: {record.user_message}"
                     + ("" if error is None else f"\n{error.message}{_causes(error)}"))
    return found


def _causes(error) -> str:
    """The messages of an error's causes (a step's error is wrapped in Dagster's own)."""
    text = ""
    while error.cause is not None:
        error = error.cause
        text += f"\ncaused by {error.cls_name}: {error.message}"
    return text


#: The backfill, beside the rest of the suite once the `tiny` demo is done.
BACKFILL = background.Job("the webserver's backfill", _backfill, after=background.TINY,
                          isolated=True)


@pytest.mark.background(BACKFILL)
def test_departure_models_backfill_from_the_webserver() -> None:
    done = BACKFILL.result()
    every_k, runs, updated = done["every_k"], done["runs"], done["updated"]
    assert every_k[0] == "2016-09-07" and every_k[-1] == "2016-09-18"
    assert len(runs) == 1, runs  # a single-run backfill: both k in one run, in order
    assert all(r["status"] == "SUCCESS" for r in runs), (runs, done["failures"])
    assert set(updated) == {"departure_curves", "report"}, "automation did not update them"
    assert done["windows"] == len(every_k)  # the demo's twelve, the two backfilled among them
    assert updated["report"] > updated["departure_curves"]
    assert set(done["sensors"].values()) == {"keep_results_fresh"}, done["sensors"]
