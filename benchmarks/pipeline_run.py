"""Shared by ``benchmarks/demo.py`` and ``benchmarks/scale.py``: run ``migrant-assets demo`` in a
child process with a fresh Dagster home, sample the resident memory of its process tree, and read
back from the Dagster event log the seconds of every step, by asset and by stage (asset group).

Not a benchmark itself. Memory is sampled from ``/proc`` (Linux) every 0.2 s: ``peak RSS`` is the
largest sum of the tree's resident sets seen, and each step's peak is the largest seen while it
ran; beside it, the demo's own process alone (``main``: DuckDB, the matrices) and the largest
other process of the tree (``child``: a fit's worker), each its own peak. Disk is the work
directory's size at the end (city files, DuckDB file, figures) and the largest size of the
DuckDB spill directory seen while it ran.
"""

from __future__ import annotations

import argparse
import bisect
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
STAGES = ("ingest", "labels", "graphs", "features", "models", "reports")
#: The peaks reported per stage and asset: the process tree, the demo's own process, the
#: largest other process (:meth:`Sampler.peak`).
PEAKS = {"peak_rss": "tree", "peak_main": "main", "peak_child": "child", "peak_spill": "spill"}


def _children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return out


def _rss_bytes(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def tree_rss(pid: int) -> int:
    """Resident bytes of ``pid`` and all its descendants."""
    return tree_rss_parts(pid)[0]


def tree_rss_parts(pid: int) -> tuple[int, int, int]:
    """Resident bytes of ``pid`` and all its descendants, of ``pid`` alone, and of the largest
    descendant."""
    total, main, child, pending = 0, 0, 0, [pid]
    while pending:
        p = pending.pop()
        rss = _rss_bytes(p)
        total += rss
        if p == pid:
            main = rss
        else:
            child = max(child, rss)
        pending += _children(p)
    return total, main, child


def tree_cpu(pid: int) -> dict[int, float]:
    """CPU seconds (user + system) so far of ``pid`` and each of its descendants, by PID: a
    sampler keeps each process's last value, since a process that is not waited for (a JVM that
    pyspark starts) is counted in no parent's ``RUSAGE_CHILDREN``."""
    tick, out, pending = os.sysconf("SC_CLK_TCK"), {}, [pid]
    while pending:
        p = pending.pop()
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            out[p] = (int(fields[11]) + int(fields[12])) / tick
        except (OSError, IndexError, ValueError):
            pass
        pending += _children(p)
    return out


def dir_bytes(path: Path) -> int:
    """Bytes of the files under ``path`` (0 when it does not exist)."""
    if not path.exists():
        return 0
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


@dataclass
class Sampler:
    """Samples a process tree's RSS (the tree, its root alone, its largest other process) and a
    directory's size in a thread."""

    pid: int
    spill_dir: Path
    interval: float = 0.2
    samples: list[tuple[float, tuple[int, int, int]]] = field(default_factory=list)
    #: (time, bytes) of the spill directory, every 5 s
    spill: list[tuple[float, int]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        n = 0
        while not self._stop.is_set():
            self.samples.append((time.time(), tree_rss_parts(self.pid)))
            if n % 25 == 0:  # every 5 s: walking a large spill directory is not free
                self.spill.append((time.time(), dir_bytes(self.spill_dir)))
            n += 1
            self._stop.wait(self.interval)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def peak(self, start: float = 0.0, end: float = float("inf"), of: str = "tree") -> int:
        """The largest RSS seen between ``start`` and ``end`` of the tree, its root
        (``"main"``) or its largest other process (``"child"``); ``"spill"``: the largest size
        of the spill directory."""
        if of == "spill":
            samples, pick = self.spill, (lambda sample: sample[1])
        else:
            i = ("tree", "main", "child").index(of)
            samples, pick = self.samples, (lambda sample: sample[1][i])
        first = bisect.bisect_left(samples, start, key=lambda sample: sample[0])
        last = bisect.bisect_right(samples, end, key=lambda sample: sample[0])
        return max(map(pick, samples[first:last]), default=0)  # samples in time order

    @property
    def peak_spill(self) -> int:
        return self.peak(of="spill")


@dataclass
class Step:
    """One Dagster step of a run: what it materialized or checked, when, and its stage."""

    run: str
    step_key: str
    assets: tuple[str, ...]
    stage: str
    start: float
    end: float
    ok: bool

    @property
    def seconds(self) -> float:
        return self.end - self.start


@dataclass
class PipelineRun:
    wall: float
    returncode: int
    #: CPU seconds (user + system) of the demo's process tree: the processes waited for, the
    #: fits' workers included; less sensitive than ``wall`` to a machine shared with others.
    cpu: float
    steps: list[Step]
    sampler: Sampler
    workdir: Path
    output: str

    @property
    def peak_rss(self) -> int:
        return self.sampler.peak()

    def by_stage(self) -> dict[str, dict]:
        """Seconds (sum of the stage's step durations) and peak RSS while the stage ran."""
        out: dict[str, dict] = {}
        for stage in STAGES:
            steps = [s for s in self.steps if s.stage == stage]
            if steps:
                out[stage] = {
                    "seconds": sum(s.seconds for s in steps),
                    **{key: max(self.sampler.peak(s.start, s.end, of) for s in steps)
                       for key, of in PEAKS.items()},
                }
        return out

    def by_asset(self) -> dict[str, dict]:
        """Seconds per asset (a step that materialized several assets counts once, under their
        joined names; checks run in their own steps count under ``<asset> checks``)."""
        out: dict[str, dict] = defaultdict(lambda: {"seconds": 0.0, "runs": 0,
                                                    **dict.fromkeys(PEAKS, 0)})
        for s in self.steps:
            name = " + ".join(s.assets) if s.assets else s.step_key
            row = out[name]
            row["seconds"] += s.seconds
            for key, of in PEAKS.items():
                row[key] = max(row[key], self.sampler.peak(s.start, s.end, of))
            row["runs"] += 1
        return dict(out)


def machine() -> str:
    """The machine a benchmark ran on: CPU model, logical CPUs, memory, load averages (figures
    of different days compare only beside a baseline of the same run; this says how far)."""
    model = next((line.split(":", 1)[1].strip()
                  for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), "unknown CPU")
    mem_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                  if line.startswith("MemTotal:"))
    return f"{model}, {os.cpu_count()} CPUs, {mem_kb / 2**20:.0f} GB; {load()}"


def load() -> str:
    """The 1, 5 and 15 minute load averages, as ``uptime`` prints them."""
    return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


def write_config(workdir: Path, preset: str, seed: int, calls: int | None,
                 duckdb: dict | None = None, early_warning: bool = False) -> Path:
    """A study config for the synthetic city ``preset`` (scaled to ``calls`` when given), with
    the early warning's assets when ``early_warning``."""
    source = {"kind": "synthetic", "preset": preset, "seed": seed}
    if calls is not None:
        source["calls"] = calls
    cfg = {"source": source, "workdir": str(workdir)}
    if duckdb:
        cfg["duckdb"] = duckdb
    if early_warning:
        cfg["early_warning"] = {"enabled": True}
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir.parent / f"{workdir.name}.study.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path


def run_demo(config: Path, workdir: Path, *, python_path: Path | None = None,
             echo: bool = True) -> PipelineRun:
    """``migrant-assets demo --config config`` in a child process with a fresh Dagster home
    under ``workdir``; ``python_path``: run another checkout's package (a baseline)."""
    home = workdir.parent / f"{workdir.name}.dagster_home"
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    shutil.copy(ROOT / "migrant_assets" / "data" / "dagster.yaml", home / "dagster.yaml")
    env = dict(os.environ, DAGSTER_HOME=str(home))
    env.pop("MIGRANT_ASSETS_CONFIG", None)
    if python_path is not None:
        env["PYTHONPATH"] = str(python_path)
    cmd = [sys.executable, "-m", "migrant_assets.cli", "demo", "--config", str(config),
           "--workdir", str(workdir)]
    t0 = time.perf_counter()
    cpu0 = _children_cpu()
    proc = subprocess.Popen(cmd, env=env, cwd=python_path or ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    sampler = Sampler(proc.pid, workdir / "tmp")
    lines = []
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.append(line)
        if echo:
            print(f"    | {line}", end="", flush=True)
    proc.wait()
    wall = time.perf_counter() - t0
    cpu = _children_cpu() - cpu0
    sampler.stop()
    steps = read_steps(home, config, python_path)
    return PipelineRun(wall, proc.returncode, cpu, steps, sampler, workdir, "".join(lines))


def _children_cpu() -> float:
    """User + system CPU seconds of this process's children that have been waited for."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


_READ_STEPS = r"""
import json, os, sys
import dagster as dg
from dagster import DagsterEventType as T
from migrant_assets.defs import defs
graph = defs.resolve_asset_graph()
group = {k.to_user_string(): graph.get(k).group_name for k in graph.get_all_asset_keys()}
inst = dg.DagsterInstance.get()
out = []
for run in inst.get_runs():
    steps = {}
    for rec in inst.all_logs(run.run_id, of_type={T.STEP_START, T.STEP_SUCCESS, T.STEP_FAILURE,
                                                  T.ASSET_MATERIALIZATION,
                                                  T.ASSET_CHECK_EVALUATION}):
        ev = rec.dagster_event
        s = steps.setdefault(ev.step_key, {"assets": [], "checked": [], "ok": True})
        if ev.event_type == T.STEP_START:
            s["start"] = rec.timestamp
        elif ev.event_type in (T.STEP_SUCCESS, T.STEP_FAILURE):
            s["end"] = rec.timestamp
            s["ok"] = ev.event_type == T.STEP_SUCCESS
        elif ev.event_type == T.ASSET_MATERIALIZATION:
            name = ev.asset_key.to_user_string()
            if name not in s["assets"]:
                s["assets"].append(name)
        else:
            name = ev.event_specific_data.asset_key.to_user_string()
            if name not in s["checked"]:
                s["checked"].append(name)
    for key, s in steps.items():
        if "start" not in s or "end" not in s:
            continue
        named = s["assets"] or [f"{a} checks" for a in s["checked"]]
        owner = (s["assets"] or s["checked"] or [None])[0]
        out.append({"run": run.run_id, "step_key": key, "assets": sorted(named),
                    "stage": group.get(owner, "other"), "start": s["start"], "end": s["end"],
                    "ok": s["ok"]})
json.dump(out, sys.stdout)
"""


def read_steps(home: Path, config: Path, python_path: Path | None) -> list[Step]:
    """Every finished step of the Dagster home's runs (read in a child process that loads the
    same definitions, so that a baseline checkout reads its own asset groups)."""
    import json

    env = dict(os.environ, DAGSTER_HOME=str(home), MIGRANT_ASSETS_CONFIG=str(config))
    if python_path is not None:
        env["PYTHONPATH"] = str(python_path)
    done = subprocess.run([sys.executable, "-c", _READ_STEPS], env=env, capture_output=True,
                          text=True, cwd=python_path or ROOT)
    if done.returncode:
        print(f"could not read the runs' steps:\n{done.stderr[-2000:]}", file=sys.stderr)
        return []
    return [Step(r["run"], r["step_key"], tuple(r["assets"]), r["stage"], r["start"], r["end"],
                 r["ok"]) for r in json.loads(done.stdout)]


def baseline_checkout(rev: str, where: Path) -> Path:
    """A worktree of ``rev`` at ``where`` (made once), whose package a baseline run imports."""
    if not (where / "migrant_assets").exists():
        where.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(where), rev],
                       check=True, capture_output=True)
    return where


def run_in_checkout(code: Path, runner: str, *args: str) -> dict:
    """Run the Python text ``runner`` with ``args`` in a fresh process importing the checkout
    ``code``'s package; returns the JSON of its ``RESULT `` line (a failure exits, with its
    error output)."""
    proc = subprocess.run([sys.executable, "-c", runner, *args],
                          env={**os.environ, "PYTHONPATH": str(code)}, cwd=code,
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"{code}: the run failed\n{proc.stderr[-4000:]}")
    line = next(x for x in proc.stdout.splitlines() if x.startswith("RESULT "))
    return json.loads(line.removeprefix("RESULT "))


def turns_parser(doc: str, baseline: str) -> argparse.ArgumentParser:
    """The arguments of a benchmark that runs on a run's DuckDB file, ours against a revision in
    turns (:func:`ours_and_baseline_in_turns`): ``DB``, ``--study``, ``--baseline`` (default
    ``baseline``) and ``--rounds``; ``doc``'s first line describes it."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("db", type=Path)
    parser.add_argument("--study", type=Path, required=True, help="the run's study config")
    parser.add_argument("--baseline", default=baseline, help=f"git revision (default {baseline})")
    parser.add_argument("--rounds", type=int, default=2)
    return parser


def ours_and_baseline_in_turns(baseline: str, where: Path, rounds: int, runner: str,
                               *args: str) -> dict[str, list[dict]]:
    """``rounds`` runs of ``runner`` (:func:`run_in_checkout`) with ``args`` for this checkout
    ("ours") and for the revision ``baseline`` (a worktree under ``where``), in turns; the
    results of each way, round by round."""
    ways = {"ours": ROOT, f"baseline {baseline}": baseline_checkout(
        baseline, where / f"base-{baseline}")}
    results: dict[str, list[dict]] = {way: [] for way in ways}
    for _ in range(rounds):
        for way, code in ways.items():
            results[way].append(run_in_checkout(code, runner, *args))
    return results


def table_bytes(db_path: Path) -> dict[str, int]:
    """Bytes of each table of a DuckDB file: its distinct storage blocks (``pragma_storage_info``)
    times the block size, largest first (blobs and long strings in overflow blocks not counted)."""
    import duckdb

    with duckdb.connect(str(db_path), read_only=True) as con:
        block = con.execute("SELECT block_size FROM pragma_database_size()").fetchone()[0]
        names = [r[0] for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main'").fetchall()]
        sizes = {name: con.execute(
            "SELECT count(DISTINCT block_id) FROM pragma_storage_info(?) "
            "WHERE block_id IS NOT NULL", [name]).fetchone()[0] * block for name in names}
    return dict(sorted(sizes.items(), key=lambda kv: -kv[1]))


def gb(n: int | float) -> str:
    return f"{n / 1e9:.2f} GB"
