"""Issue 12: the SQL, the default study and the Dagster instance settings ship in the wheel.

A wheel built from the checkout (offline, without build isolation) holds every SQL file and the
packaged defaults; installed into a fresh virtual environment outside the checkout, it loads the
default study, reads its SQL and runs the `tiny` demo (every asset and check, the report) without
the checkout's files: the session's `tiny` demo is that run (``background.installed_wheel``).
"""

from __future__ import annotations

import subprocess
import zipfile
from pathlib import Path

import pytest

from migrant_assets.config import DEFAULT_CONFIG, DEFAULT_DAGSTER_YAML, PROJECT_ROOT, SQL_DIR
from migrant_assets_tests import background

pytestmark = pytest.mark.skipif(
    not (PROJECT_ROOT / "pyproject.toml").exists(), reason="needs the source checkout")


@pytest.fixture(scope="module")
def wheel(tiny: dict) -> dict:
    """The wheel the session's `tiny` demo ran from (``background.installed_wheel``)."""
    assert tiny["wheel"] is not None
    return tiny["wheel"]


def test_wheel_holds_sql_and_defaults(wheel: dict) -> None:
    names = set(zipfile.ZipFile(wheel["wheel"]).namelist())
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


def test_installed_wheel_works_outside_the_checkout(tiny: dict, wheel: dict,
                                                    tmp_path: Path) -> None:
    """Installed outside the checkout, the package imports from there, loads its default study
    and reads its SQL; the session's `tiny` demo ran from it (every asset, every check, the
    report), from a directory of its own."""
    check = subprocess.run([str(wheel["python"]), "-I", "-c", _CHECK], cwd=tmp_path,
                           env=background.wheel_env(tmp_path / "dagster_home"),
                           capture_output=True, text=True, timeout=120)
    assert check.returncode == 0, check.stderr
    assert check.stdout.strip().startswith(str(wheel["env_dir"].resolve())), check.stdout
    demo = tiny["output"]
    assert "all assets materialized" in demo, demo[-3000:]
    assert "every asset check passed" in demo, demo[-3000:]
    assert (tiny["cfg"].workdir / "report.html").stat().st_size > 100_000
    assert not (tiny["run_dir"] / ".dagster_home").exists()  # DAGSTER_HOME was given
