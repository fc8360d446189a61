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
import venv
import zipfile
from pathlib import Path

import pytest

from migrant_assets.config import DEFAULT_CONFIG, DEFAULT_DAGSTER_YAML, PROJECT_ROOT, SQL_DIR

pytestmark = pytest.mark.skipif(
    not (PROJECT_ROOT / "pyproject.toml").exists(), reason="needs the source checkout")

#: Files a wheel is built from; a copy keeps build/ and *.egg-info out of the checkout.
_SOURCES = ("pyproject.toml", "README.md", "migrant_assets")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    src = tmp_path_factory.mktemp("src")
    for name in _SOURCES:
        if (PROJECT_ROOT / name).is_dir():
            shutil.copytree(PROJECT_ROOT / name, src / name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy(PROJECT_ROOT / name, src / name)
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
         "--quiet", "-w", str(out), str(src)],
        check=True, cwd=out, timeout=120)
    [path] = out.glob("migrant_assets-*.whl")
    return path


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


def test_installed_wheel_works_outside_the_checkout(wheel: Path, tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    # system site-packages give the dependencies (dagster, duckdb, ...) without a download; the
    # checkout's editable install is not among them (it lives in its own .venv).
    venv.create(env_dir, system_site_packages=True, with_pip=False)
    python = env_dir / "bin" / "python"
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps",
         "--no-index", "--quiet", str(wheel)],
        check=True, timeout=120)
    # the dependencies come from this environment (.venv) through a .pth file; its editable
    # migrant_assets finder is left out, so only the installed wheel can be imported
    site = next((env_dir / "lib").glob("python3.*/site-packages"))
    ours = [p for p in sys.path if p.endswith("site-packages") and Path(p).is_dir()]
    (site / "zz_deps.pth").write_text("\n".join(ours) + "\n")
    run = tmp_path / "run"
    run.mkdir()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("MIGRANT_ASSETS_", "PYTHON", "VIRTUAL_ENV"))}
    env["DAGSTER_HOME"] = str(tmp_path / "dagster_home")
    out = subprocess.run([str(python), "-I", "-c", _CHECK], cwd=run, env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().startswith(str(env_dir.resolve())), out.stdout
    # the tiny demo from the installed package: every asset, every check, the report
    work = tmp_path / "work"
    demo = subprocess.run(
        [str(env_dir / "bin" / "migrant-assets"), "demo", "--preset", "tiny",
         "--workdir", str(work)],
        cwd=run, env=env, capture_output=True, text=True, timeout=900)
    assert demo.returncode == 0, demo.stderr[-3000:]
    assert "all assets materialized" in demo.stdout, demo.stdout[-3000:]
    assert "every asset check passed" in demo.stdout, demo.stdout[-3000:]
    assert (work / "report.html").stat().st_size > 100_000
    assert not (run / ".dagster_home").exists()  # DAGSTER_HOME was given
