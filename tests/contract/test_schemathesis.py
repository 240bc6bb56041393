"""schemathesis against the running app: `/openapi.json` tells the truth about every operation.

A real `python -m core serve` (embedded Meilisearch, a seeded SQLite database in a scratch DATA_DIR under
pytest's tmp_path, a free port) is driven by schemathesis' own CLI with `schemathesis.toml` beside this file:
explicit examples, coverage, fuzzing and stateful phases, every check. Requests are signed in as one user
who can reach everything (world.py): the API token on /api/, the session cookie and its CSRF header on
pages and forms. The run is seeded and deterministic, so a failure here reproduces with the same command.

Run it alone: `.venv/bin/pytest tests/contract -q` (about three minutes).
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.contract.world import Credentials, prepare, serving

CONFIG = Path(__file__).with_name("schemathesis.toml")
KNOWN_ID_PROBABILITY = 0.5  # how often a path parameter names a real object instead of a generated value
RUN_TIMEOUT = 900  # seconds; a run that hangs is a failure, not a stuck suite


def _env(credentials: Credentials) -> dict[str, str]:
    env = dict(os.environ)
    env |= {
        "CONTRACT_API_TOKEN": credentials.api_token,
        "CONTRACT_SID": credentials.session_cookie,
        "CONTRACT_CSRF": credentials.csrf_token,
        "CONTRACT_LOGOUT_SID": credentials.logout_cookie,
        "CONTRACT_LOGOUT_CSRF": credentials.logout_csrf_token,
        "NO_COLOR": "1",
    }
    return env


def _config(credentials: Credentials, folder: Path) -> Path:
    """The committed settings plus this world's real ids (drawn half of the time, generated values otherwise)
    and the form tokens a browser would get from each anonymous form's page."""
    lines = [CONFIG.read_text(), "", "# Added by the test: ids of this run's seeded objects.", "[parameters]"]
    for name in credentials.known_ids:
        lines.append(f'"path.{name}" = {{ dictionary = "{name}", probability = {KNOWN_ID_PROBABILITY} }}')
    for name, ids in credentials.known_ids.items():
        lines += ["", f"[dictionaries.{name}]", f"values = {json.dumps(ids)}"]
    for operation, token in credentials.form_tokens.items():  # always valid: the 403 of a bad one is tested apart
        lines += ["", "[[operations]]", f"include-name = {json.dumps(operation)}"]
        lines.append(f'parameters = {{ "body.form_token" = {json.dumps(token)} }}')
    path = folder / CONFIG.name
    path.write_text("\n".join(lines) + "\n")
    return path


def _report(output: str, server_log: Path) -> str:
    """The failures section of schemathesis' output (one block per operation) and its summary."""
    start = output.find("=== FAILURES ===")
    errors = output.find("=== ERRORS ===")
    if errors != -1 and (start == -1 or errors < start):
        start = errors
    tail = output[start:] if start != -1 else output[-6000:]
    log = server_log.read_text(errors="replace")[-4000:] if server_log.exists() else ""
    return f"schemathesis found problems:\n{tail}\n--- end of the server's log ---\n{log}"


@pytest.mark.timeout(RUN_TIMEOUT + 120)
def test_openapi_document_matches_the_running_app(tmp_path: Path) -> None:
    credentials = prepare(tmp_path)
    config = _config(credentials, tmp_path)
    with serving(tmp_path) as url:
        run = subprocess.run(
            [sys.executable, "-m", "schemathesis.cli", "--config-file", str(config), "run", f"{url}/openapi.json"],
            cwd=tmp_path,  # reports and caches, if any, land in the scratch directory
            env=_env(credentials),
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT,
        )
    output = run.stdout + run.stderr
    assert run.returncode == 0, _report(output, tmp_path / "server.log")
    tested = re.search(r"Tested: (\d+)", output)
    assert tested and int(tested.group(1)) >= 80, f"schemathesis tested too few operations:\n{output[-3000:]}"
