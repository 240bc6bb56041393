"""Bad configuration stops the CLI with one explanatory line, not a traceback."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "MEILI_URL", "DATA_DIR")}
    full_env.update(env)
    return subprocess.run(
        [sys.executable, "-m", "core", *args], cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=60
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], expected: str) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error:") and expected in lines[0]


def test_malformed_database_url(tmp_path: Path) -> None:
    result = run_cli("migrate", env={"DATA_DIR": str(tmp_path), "DATABASE_URL": "not a url"})
    assert_one_line_error(result, "DATABASE_URL is malformed")


def test_unsupported_database(tmp_path: Path) -> None:
    result = run_cli("migrate", env={"DATA_DIR": str(tmp_path), "DATABASE_URL": "mysql://x@localhost/db"})
    assert_one_line_error(result, "only sqlite and postgresql")


def test_unreachable_database(tmp_path: Path) -> None:
    url = "postgresql+psycopg://nobody@127.0.0.1:9/none"
    result = run_cli("migrate", env={"DATA_DIR": str(tmp_path), "DATABASE_URL": url})
    assert_one_line_error(result, "cannot connect to the database")


def test_data_dir_that_is_a_file(tmp_path: Path) -> None:
    # A path under a regular file can never be created, even by root.
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = run_cli("migrate", env={"DATA_DIR": str(blocker / "data")})
    assert_one_line_error(result, "not writable")


def test_unreachable_meili_url(tmp_path: Path) -> None:
    run_cli("migrate", env={"DATA_DIR": str(tmp_path)})
    result = run_cli("serve", "--port", "0", env={"DATA_DIR": str(tmp_path), "MEILI_URL": "http://127.0.0.1:9"})
    assert_one_line_error(result, "MEILI_URL http://127.0.0.1:9 is unreachable")


def test_bad_setting_value(tmp_path: Path) -> None:
    result = run_cli("migrate", env={"DATA_DIR": str(tmp_path), "PORT": "eighty"})
    assert_one_line_error(result, "PORT")
