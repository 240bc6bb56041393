"""Feed sources as an intergroup's web servant runs them: the `feeds` commands, a sync with a conditional
GET against a loopback server (an unchanged feed writes nothing), daily scheduling, and the admin page of
a source with its counts and problems by row, in English and Spanish."""

import http.server
import threading
from collections.abc import Iterator
from datetime import timedelta
from functools import partial
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from typer.testing import CliRunner

from core.cli import app
from core.clock import utcnow
from core.settings import get_settings
from directory.listings.models import Meeting
from directory.sources.service import add_source
from directory.sources.sync import due_sources, sync_source
from tests.directory.sources.test_sources import FEEDS, table_counts
from tests.factories import make_user
from tests.support import signed_in_as


@pytest.fixture
def cli_env(engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_the_feeds_commands(cli_env: None, engine: Engine) -> None:
    runner = CliRunner()
    added = runner.invoke(app, ["feeds", "add", "Ben Lomond Fellowship", str(FEEDS / "benlomond.test.json"),
                                "--code", "benlomond", "--fellowship", "AA"])  # fmt: skip
    assert added.exit_code == 0, added.output
    assert "added benlomond" in added.output
    again = runner.invoke(app, ["feeds", "add", "Copy", str(FEEDS / "benlomond.test.json")])
    assert again.exit_code == 1 and "already registered as 'benlomond'" in again.output
    first = runner.invoke(app, ["feeds", "sync"])  # every source that is due: never synced yet
    assert first.exit_code == 0, first.output
    assert "benlomond: imported: imported 35 rows (meeting: +35" in first.output
    before = table_counts(engine)
    second = runner.invoke(app, ["feeds", "sync", "benlomond"])
    assert second.exit_code == 0 and "benlomond: unchanged" in second.output
    assert table_counts(engine) == before
    listed = runner.invoke(app, ["feeds", "list"])
    assert "benlomond\tBen Lomond Fellowship" in listed.output and "unchanged" in listed.output
    removed = runner.invoke(app, ["feeds", "remove", "benlomond"])
    assert removed.exit_code == 0 and "35 meetings retired" in removed.output
    assert table_counts(engine)["meeting"] == 35  # retired, not deleted
    missing = runner.invoke(app, ["feeds", "sync", "nope"])
    assert missing.exit_code == 1 and "no feed source 'nope'" in missing.output


@pytest.fixture
def server() -> Iterator[str]:
    # The standard library's file server sends Last-Modified and answers If-Modified-Since with 304.
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(FEEDS))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_a_conditional_get_and_a_daily_schedule(engine: Engine, session: Session, server: str) -> None:
    source = add_source(session=session, name="Atlanta", location=f"{server}/atlanta.json", code="atlanta")
    now = utcnow()
    assert [s.code for s in due_sources(session=session, now=now)] == ["atlanta"]
    first = sync_source(session=session, source=source, now=now)
    assert first.status == "imported" and source.last_modified_header is not None
    assert len(session.exec(select(Meeting)).all()) == 6
    assert due_sources(session=session, now=now + timedelta(hours=23)) == []
    before = table_counts(engine)
    later = now + timedelta(hours=25)
    assert [s.code for s in due_sources(session=session, now=later)] == ["atlanta"]
    second = sync_source(session=session, source=source, now=later)
    assert second.status == "not-modified"  # the server answered 304 to If-Modified-Since
    assert table_counts(engine) == before
    forced = sync_source(session=session, source=source, now=later, force=True)
    assert forced.status == "imported" and forced.report is not None and forced.report.services_changed == 0
    broken = add_source(session=session, name="Gone", location=f"{server}/missing.json", code="gone")
    failed = sync_source(session=session, source=broken)
    assert failed.status == "failed" and "HTTP 404" in failed.summary and broken.last_status == "failed"


def test_the_admin_page_of_a_source_in_english_and_spanish(web: TestClient, session: Session) -> None:
    source = add_source(session=session, name="Santa Clara County AA", location=str(FEEDS / "aasanjose.test.json"),
                        code="aasanjose")  # fmt: skip
    assert sync_source(session=session, source=source).status == "imported"
    make_user(session, "editor@example.org")
    signed_in_as(web, session, "editor@example.org")
    assert web.get("/admin/feeds/aasanjose").status_code == 403  # network admins only
    make_user(session, "root@example.org", network_admin=True)
    signed_in_as(web, session, "root@example.org")
    listing = web.get("/admin/feeds")
    assert listing.status_code == 200 and "Santa Clara County AA" in listing.text and "imported" in listing.text
    assert 'href="/admin/feeds"' in web.get("/admin/users").text  # reachable from the admin menu
    page = web.get("/admin/feeds/aasanjose")
    assert page.status_code == 200
    assert "New: 692" in page.text and "Rows skipped: 1" in page.text
    assert "slug &#39;pass-it-on-group&#39; is also used by row 332" in page.text and ">512<" in page.text
    spanish = web.get("/admin/feeds/aasanjose?lang=es")
    assert "Nuevas: 692" in spanish.text and "Filas omitidas: 1" in spanish.text and "fila omitida" in spanish.text
    assert web.get("/admin/feeds/no-such-feed").status_code == 404
