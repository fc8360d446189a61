"""Issue 12: the SQL, the default study and the Dagster instance settings ship in the wheel.

A wheel built from the checkout (offline, without build isolation) holds every SQL file and the
packaged defaults; installed into a fresh virtual environment outside the checkout, it loads the
default study, reads its SQL and runs the `tiny` demo (every asset and check, the report) without
the checkout's files.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import threading
import venv
import zipfile
from pathlib import Path

import pytest

from migrant_assets.config import DEFAULT_CONFIG, DEFAULT_DAGSTER_YAML, PROJECT_ROOT, SQL_DIR

pytestmark = pytest.mark.skipif(
    not (PROJECT_ROOT / "pyproject.toml").exists(), reason="needs the source checkout")

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


class WheelRun(threading.Thread):
    """Build the wheel, install it into a fresh virtual environment outside the checkout, import
    it there and run the `tiny` demo with it. Started by the session (conftest) once the `tiny`
    demo is done, it runs in subprocesses beside the rest of the suite."""

    def __init__(self, root: Path) -> None:
        super().__init__(daemon=True)
        self.root, self.wheel, self.error = root, None, None
        self.wheel_built = threading.Event()
        self.env_dir = root / "venv"
        self.run_dir, self.work = root / "run", root / "work"
        self.check = self.demo = None

    def run(self) -> None:
        try:
            self.wheel = _build_wheel(self.root)
            self.wheel_built.set()
            self._install_and_run()
        except BaseException as error:  # noqa: BLE001 -- reported by the tests
            self.error = error
        finally:
            self.wheel_built.set()

    def _install_and_run(self) -> None:
        # system site-packages give the dependencies (dagster, duckdb, ...) without a download;
        # the checkout's editable install is not among them (it lives in its own .venv).
        venv.create(self.env_dir, system_site_packages=True, with_pip=False)
        python = self.env_dir / "bin" / "python"
        subprocess.run(
            [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps",
             "--no-index", "--quiet", str(self.wheel)],
            check=True, timeout=120)
        # the dependencies come from this environment (.venv) through a .pth file; its
        # editable migrant_assets finder is left out, so only the installed wheel is importable
        site = next((self.env_dir / "lib").glob("python3.*/site-packages"))
        ours = [p for p in sys.path if p.endswith("site-packages") and Path(p).is_dir()]
        (site / "zz_deps.pth").write_text("\n".join(ours) + "\n")
        self.run_dir.mkdir()
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("MIGRANT_ASSETS_", "PYTHON", "VIRTUAL_ENV"))}
        env["DAGSTER_HOME"] = str(self.root / "dagster_home")
        self.check = subprocess.run([str(python), "-I", "-c", _CHECK], cwd=self.run_dir, env=env,
                                    capture_output=True, text=True, timeout=120)
        # the tiny demo from the installed package: every asset, every check, the report
        self.demo = subprocess.run(
            [str(self.env_dir / "bin" / "migrant-assets"), "demo", "--preset", "tiny",
             "--workdir", str(self.work)],
            cwd=self.run_dir, env=env, capture_output=True, text=True, timeout=1500)


_RUN: list[WheelRun] = []


def start_wheel_run() -> WheelRun:
    """The session's :class:`WheelRun`, started on first call (in a source checkout only)."""
    if not _RUN and (PROJECT_ROOT / "pyproject.toml").exists():
        _RUN.append(WheelRun(Path(tempfile.mkdtemp(prefix="migrant_assets_wheel_"))))
        _RUN[0].start()
    return _RUN[0]


@pytest.fixture(scope="module")
def wheel_run() -> WheelRun:
    return start_wheel_run()


@pytest.fixture(scope="module")
def wheel(wheel_run: WheelRun) -> Path:
    wheel_run.wheel_built.wait(timeout=300)
    if wheel_run.wheel is None:
        raise AssertionError(f"the wheel was not built: {wheel_run.error!r}")
    return wheel_run.wheel


def test_wheel_holds_sql_and_defaults(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    sql = {f"migrant_assets/sql/{p.relative_to(SQL_DIR).as_posix()}"
           for p in Path(SQL_DIR).rglob("*.sql")}
    assert len(sql) > 50
    assert sql <= names, sorted(sql - names)
    assert {"migrant_assets/data/study.yaml", "migrant_assets/data/dagster.yaml"} <= names
    assert not any(n.startswith("migrant_assets_tests/") for n in names)
    # the checkout's top-level sql/, config/study.yaml and dagster.yaml are the packaged files
    assert (PROJECT_ROOT / "sql").resolve() == Path(SQL_DIR).resolve()
    assert (PROJECT_ROOT / "config" / "study.yaml").resolve() == Path(DEFAULT_CONFIG).resolve()
    assert (PROJECT_ROOT / "dagster.yaml").resolve() == Path(DEFAULT_DAGSTER_YAML).resolve()


_CHECK = """
import sys
from pathlib import Path
import migrant_assets
from migrant_assets.config import DEFAULT_CONFIG, StudyConfig
from migrant_assets.db import sql_text
here = Path(migrant_assets.__file__).resolve()
assert here.is_relative_to(Path(sys.prefix).resolve()), (here, sys.prefix)
assert Path(DEFAULT_CONFIG).resolve().is_relative_to(here.parent), DEFAULT_CONFIG
cfg = StudyConfig.load()
assert type(cfg.source).__name__ == "SyntheticSource", cfg.source
assert "INSERT INTO $graph_table" in sql_text("graphs/window_graph.sql")
print(here)
"""


def test_installed_wheel_works_outside_the_checkout(wheel_run: WheelRun) -> None:
    wheel_run.join(timeout=1800)
    assert not wheel_run.is_alive() and wheel_run.error is None, repr(wheel_run.error)
    check, demo = wheel_run.check, wheel_run.demo
    assert check.returncode == 0, check.stderr
    assert check.stdout.strip().startswith(str(wheel_run.env_dir.resolve())), check.stdout
    assert demo.returncode == 0, demo.stderr[-3000:]
    assert "all assets materialized" in demo.stdout, demo.stdout[-3000:]
    assert "every asset check passed" in demo.stdout, demo.stdout[-3000:]
    assert (wheel_run.work / "report.html").stat().st_size > 100_000
    assert not (wheel_run.run_dir / ".dagster_home").exists()  # DAGSTER_HOME was given
