"""Work of the suite that runs beside it: the `tiny` demo (from the wheel built from the
checkout, installed outside it), and the heavy parts of the tests that need no more than its
files (the killed runs of test_recovery.py, the webserver's backfill of test_backfill.py, the
Spark features of test_spark.py). Each is a :class:`Job`, started when the session's tests are
collected (conftest); its tests wait for it with :meth:`Job.result`, and the suite runs them
after the others. The two cores are then busy with the jobs and the in-process tests at once,
instead of one after the other.

A job that only drives subprocesses runs in a thread of the session; one that calls libraries
in-process (Dagster's instance, Spark, DuckDB) runs in a process of its own (``isolated``):
``warnings.catch_warnings``, which pytest and those libraries use, is not thread-safe."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import venv
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from migrant_assets.config import PROJECT_ROOT, StudyConfig
from migrant_assets.defs.resources import SQL_LOG_ENV

#: The jobs' processes run at a lower priority than the session's own tests: those are the
#: longest chain of the suite (one after the other in one process), the jobs fill the rest.
NICE = 10
#: This process's environment when the session began, before any test changed it: a job's
#: process is started when the job it waits for ends, mid-session, and would otherwise inherit
#: what a test has set for itself at that moment (``monkeypatch.setenv`` of a key, a workdir).
SESSION_ENV = dict(os.environ)
#: How long the jobs may run, counted from when the session's first job began (the last of
#: them ends after about 1,050 s on a quiet 2-core machine; ``MIGRANT_ASSETS_TEST_JOBS_S`` sets
#: it for a slower one): one deadline for every wait, so a job that hangs fails its tests, and
#: those of every job waiting for it, once, not each wait after the other for its own full time.
JOB_TIMEOUT_S = float(os.environ.get("MIGRANT_ASSETS_TEST_JOBS_S", 3000))


class Job(threading.Thread):
    """``work()`` run once, in a thread, or in a new process if ``isolated``; :meth:`result`
    waits for it and returns its value, or raises what it raised. ``after``: a job whose value
    this one needs first, passed to ``work`` (``work(value)``); it is waited for in the job's
    own thread, so starting a job never blocks the session. ``first``: the other jobs of the
    session begin once it has ended (the `tiny` demo, which many tests and a job wait for:
    alone beside the session's tests it took 236 s, among the other jobs 869 s)."""

    def __init__(self, name: str, work: Callable[..., Any], after: Job | None = None,
                 isolated: bool = False, first: bool = False) -> None:
        super().__init__(name=name, daemon=True)
        self.work, self.after, self.isolated, self.first = work, after, isolated, first
        self.value: Any = None
        self.error: BaseException | None = None
        self.began = self.ended = None  # seconds since the session's first job started
        self._lock = threading.Lock()

    def start_once(self) -> Job:
        with self._lock:
            if self.ident is None:
                self.start()
                STARTED_JOBS.append(self)  # started: a job may join it
        return self

    def run(self) -> None:
        try:
            for job in list(STARTED_JOBS):
                if job.first and job is not self:
                    job.join(_left())  # its failure is its own tests' to report
                    if job.is_alive():
                        raise AssertionError(f"not started: {job.name} was still running "
                                             f"{JOB_TIMEOUT_S:g} s after the first job began")
            self.began = _since_start()
            args = () if self.after is None else (self.after.result(),)
            if not self.isolated:
                self.value = self.work(*args)
                return
            # spawned, not forked: a fork of the session would copy its threads' locks
            context = multiprocessing.get_context("spawn")
            here, there = context.Pipe(duplex=False)
            # the work and its arguments pickled here, unpickled once its warnings are off
            child = context.Process(target=_isolated, name=self.name, args=(
                there, pickle.dumps((self.work, args)), scratch_root(), self.name, SESSION_ENV))
            child.start()
            _CHILDREN.append(child)
            there.close()
            try:
                done, self.value = here.recv()
            except EOFError:  # it died without an answer
                done = False
            child.join()
            if not done:
                raise AssertionError(self.value or f"its process ended with code "
                                     f"{child.exitcode}, without an answer")
        except BaseException as error:  # noqa: BLE001 -- re-raised by result()
            self.error = error
        finally:
            self.ended = _since_start()

    def result(self) -> Any:
        """The job's value, once it has ended; an error when it is still running at the
        session's deadline (:data:`JOB_TIMEOUT_S` after the first job began)."""
        self.start_once().join(_left())
        if self.is_alive() and self.began is None:
            # still in its own wait for a first job, which ends at the same deadline: with the
            # error that says which job it waited for
            self.join()
        if self.is_alive():
            raise AssertionError(f"{self.name} was still running {JOB_TIMEOUT_S:g} s after the "
                                 "first job began")
        if self.error is not None:
            raise AssertionError(f"{self.name} failed: {self.error}") from self.error
        return self.value


_STARTED: list[float] = []
#: Every job started in this session, in order.
STARTED_JOBS: list[Job] = []


def _since_start() -> float:
    if not _STARTED:
        _STARTED.append(time.monotonic())
    return time.monotonic() - _STARTED[0]


def _left() -> float:
    """Seconds to the jobs' deadline (:data:`JOB_TIMEOUT_S` after the first job began)."""
    return max(0.0, JOB_TIMEOUT_S - _since_start())


def timeline() -> list[str]:
    """When each job of the session began and ended (seconds from the first), for the suite's
    summary: what ran beside what."""
    return [f"{job.name}: {job.began:.0f}-{job.ended:.0f} s"
            + ("" if job.error is None else " (failed)")
            for job in STARTED_JOBS if job.began is not None and job.ended is not None]


#: Where the jobs write; removed when the session ends (:func:`cleanup`).
_ROOT: list[Path] = []
_ROOT_LOCK = threading.Lock()
#: The subprocesses and isolated jobs' processes, stopped if the session ends before them.
_PROCS: list[subprocess.Popen] = []
_CHILDREN: list[multiprocessing.Process] = []


def scratch_root() -> Path:
    """The session's scratch directory (one, whichever job asks first)."""
    with _ROOT_LOCK:  # jobs start side by side
        if not _ROOT:
            _ROOT.append(Path(tempfile.mkdtemp(prefix="migrant_assets_suite_")))
    return _ROOT[0]


def _isolated(answer: Any, payload: bytes, root: Path, name: str, env: dict[str, str]) -> None:
    """An isolated job's process: the session's environment as it began (``env``), the
    session's scratch directory (the session removes it), its
    output (its own, a JVM's) in a log there instead of the session's, no warnings (pytest's
    filters, from pyproject.toml, hold in its own process only), the jobs' priority; runs
    ``payload`` (the pickled work and arguments, unpickled once the warnings are off: importing
    the test module that holds the work warns) and sends back ``(True, value)`` or ``(False,
    the traceback)``."""
    os.environ.clear()
    os.environ.update(env)
    SESSION_ENV.clear()  # this process imported the module with the mid-session environment
    SESSION_ENV.update(env)
    _ROOT.append(root)
    with open(root / ("".join(c if c.isalnum() else "_" for c in name) + ".log"), "ab") as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
    warnings.simplefilter("ignore")
    os.nice(NICE)
    try:
        work, args = pickle.loads(payload)
        answer.send((True, work(*args)))
    except BaseException:  # noqa: BLE001 -- sent to the session, which raises it
        answer.send((False, traceback.format_exc()))
    finally:
        answer.close()


def scratch(name: str) -> Path:
    """A new directory for a job under the session's scratch directory."""
    path = scratch_root() / name
    path.mkdir(parents=True)
    return path


def popen(cmd: list[str], **kwargs: Any) -> subprocess.Popen:
    """``subprocess.Popen`` at the jobs' priority (:data:`NICE`; `nice` execs the command, so
    the process is the command's), remembered so that :func:`cleanup` stops what is left of
    it."""
    if os.nice(0) < NICE and shutil.which("nice"):
        cmd = ["nice", "-n", str(NICE - os.nice(0)), *cmd]
    proc = subprocess.Popen(cmd, **kwargs)
    _PROCS.append(proc)
    return proc


def cleanup() -> None:
    for child in _CHILDREN:
        if child.is_alive():
            child.kill()
            child.join(timeout=30)
    for proc in _PROCS:
        if proc.poll() is None:
            proc.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=30)
    for root in _ROOT:
        shutil.rmtree(root, ignore_errors=True)


def clean_env(dagster_home: Path) -> dict[str, str]:
    """The session's environment as it began (:data:`SESSION_ENV`) without the project's
    variables, with its own Dagster instance."""
    env = {k: v for k, v in SESSION_ENV.items()
           if not k.startswith("MIGRANT_ASSETS_") and k != "DAGSTER_HOME"}
    env["DAGSTER_HOME"] = str(dagster_home)
    return env


def demo_command(work: Path, *args: str) -> list[str]:
    """`migrant-assets demo --preset tiny` in a new Python process, as a user runs it."""
    return [sys.executable, "-m", "migrant_assets.cli", "demo", "--preset", "tiny",
            "--workdir", str(work), *args]


#: Files a wheel is built from; a copy keeps build/ and *.egg-info out of the checkout.
_SOURCES = ("pyproject.toml", "README.md", "migrant_assets")


def _build_wheel(root: Path) -> Path:
    src = root / "src"
    for name in _SOURCES:
        if (PROJECT_ROOT / name).is_dir():
            shutil.copytree(PROJECT_ROOT / name, src / name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            src.mkdir(parents=True, exist_ok=True)
            shutil.copy(PROJECT_ROOT / name, src / name)
    out = root / "wheel"
    out.mkdir()
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
         "--quiet", "-w", str(out), str(src)],
        check=True, cwd=out, timeout=120)
    [path] = out.glob("migrant_assets-*.whl")
    return path


def installed_wheel(root: Path) -> dict:
    """A wheel built from the checkout (offline, without build isolation), installed into a
    fresh virtual environment outside it: ``wheel``, ``env_dir``, ``python``, ``cli``
    (`migrant-assets`)."""
    wheel = _build_wheel(root)
    env_dir = root / "venv"
    # system site-packages give the dependencies (dagster, duckdb, ...) without a download;
    # the checkout's editable install is not among them (it lives in its own .venv).
    venv.create(env_dir, system_site_packages=True, with_pip=False)
    python = env_dir / "bin" / "python"
    # without PYTHONPATH: a checkout on it (its egg-info) reads as installed, and pip would
    # install nothing
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps",
         "--no-index", "--quiet", str(wheel)],
        check=True, timeout=120, env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"})
    if not (env_dir / "bin" / "migrant-assets").exists():
        raise RuntimeError(f"pip installed no migrant-assets command in {env_dir}")
    # the dependencies come from this environment (.venv) through a .pth file; its editable
    # migrant_assets finder is left out, so only the installed wheel is importable
    site = next((env_dir / "lib").glob("python3.*/site-packages"))
    ours = [p for p in sys.path if p.endswith("site-packages") and Path(p).is_dir()]
    (site / "zz_deps.pth").write_text("\n".join(ours) + "\n")
    return {"wheel": wheel, "env_dir": env_dir, "python": python,
            "cli": env_dir / "bin" / "migrant-assets"}


def wheel_env(dagster_home: Path) -> dict[str, str]:
    """:func:`clean_env` without this Python's own settings (``PYTHONPATH``, the virtual
    environment): what a user of the installed wheel has."""
    return {k: v for k, v in clean_env(dagster_home).items()
            if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}


def _tiny_demo() -> dict:
    """`migrant-assets demo --preset tiny --early-warning` (the main job end to end, the early
    warning included), every statement each asset runs logged (``sql_log``, test_house.py). In
    a source checkout it runs from the wheel built from it and installed outside it (``wheel``,
    test_packaging.py), from a directory of its own (``run_dir``); otherwise from the installed
    package. ``pristine`` is a copy of its work directory and Dagster instance taken as it
    ended, for the tests that change them (the backfill) while others read the original."""
    tmp = scratch("tiny")
    run_dir = tmp / "run"
    run_dir.mkdir()
    wheel = None
    if (PROJECT_ROOT / "pyproject.toml").exists():
        wheel = installed_wheel(scratch("wheel"))
        cmd = [str(wheel["cli"]), "demo", "--preset", "tiny", "--early-warning", "--workdir",
               str(tmp / "work")]
        env = wheel_env(tmp / "dagster_home")
    else:
        cmd = demo_command(tmp / "work", "--early-warning")
        env = clean_env(tmp / "dagster_home")
    env[SQL_LOG_ENV] = str(tmp / "sql_log.jsonl")
    proc = popen(cmd, env=env, cwd=run_dir, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                 text=True)
    out, err = proc.communicate()
    if proc.returncode != 0:
        raise AssertionError(f"the tiny demo failed ({proc.returncode}): {out[-3000:]}"
                             f"{err[-3000:]}")
    pristine = tmp / "pristine"
    shutil.copytree(tmp / "work", pristine / "work")
    shutil.copytree(tmp / "dagster_home", pristine / "dagster_home")
    cfg = StudyConfig.load(tmp / "work" / "study.yaml")
    return {"output": out, "cfg": cfg, "config_path": tmp / "work" / "study.yaml",
            "dagster_home": tmp / "dagster_home", "sql_log": tmp / "sql_log.jsonl",
            "pristine": pristine, "wheel": wheel, "run_dir": run_dir}


#: The session's `tiny` demo (the fixture ``tiny``).
TINY = Job("the tiny demo", _tiny_demo, first=True)


def moved_copy(tiny: dict, name: str) -> dict:
    """The pristine copy of the `tiny` demo's work directory and Dagster instance moved to a
    directory of its own, its study config pointing at it: ``cfg``, ``config_path``,
    ``dagster_home``."""
    root = scratch(name)
    shutil.copytree(tiny["pristine"] / "work", root / "work")
    shutil.copytree(tiny["pristine"] / "dagster_home", root / "dagster_home")
    cfg = tiny["cfg"].model_copy(update={"workdir": root / "work"})
    path = root / "work" / "study.yaml"
    path.write_text(yaml.safe_dump(cfg.model_dump(mode="json"), sort_keys=False))
    return {"cfg": StudyConfig.load(path), "config_path": path,
            "dagster_home": root / "dagster_home"}
