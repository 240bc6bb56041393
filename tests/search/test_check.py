"""Drift check against a real Meilisearch, and the `python -m search` command line."""

import uuid
from collections.abc import Iterator
from pathlib import Path

import meilisearch
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session
from typer.testing import CliRunner

from core.outbox import record_change
from core.settings import Settings, get_settings
from directory.listings.models import Service
from search.__main__ import app as cli
from search.check import check, content_hash, enqueue_fix
from search.client import iter_documents, service_filter, wait_succeeded
from search.embedded import MeiliServer
from search.layout import Indexes
from search.reindex import reindex
from search.sync import drain
from tests.factories import insert_listing, place
from tests.support import drop_layout

pytestmark = pytest.mark.usefixtures("taxonomy")


@pytest.fixture
def indexed(engine: Engine, session: Session, search_indexes: Indexes) -> tuple[str, list[Service]]:
    """Six listings spread over four shards of at most two."""
    services = [
        insert_listing(session, name=f"Checked Pantry {n}", places=[place(41.8 + n / 50, -87.6)]) for n in range(6)
    ]
    small = Indexes(prefix=search_indexes.prefix, home=search_indexes.home, max_documents=2)
    uid = reindex(engine=engine, indexes=small).index_uid
    return uid, services


def the_doc(client: meilisearch.Client, uid: str, service: Service) -> dict:
    [doc] = iter_documents(client, uid, filter=service_filter([service.id]))
    return doc


def make_drift(client: meilisearch.Client, uid: str, services: list[Service]) -> str:
    """One missing, one differing and two extra documents (one of a known service, one orphan)."""
    index = client.index(uid)
    missing = the_doc(client, uid, services[0])["id"]
    changed = {**the_doc(client, uid, services[1]), "name": "Stale Name"}
    extra_known = {**the_doc(client, uid, services[2]), "id": "extra-doc-of-a-known-service"}
    orphan = {**the_doc(client, uid, services[3]), "id": "orphan-doc", "service_id": str(uuid.uuid4())}
    for task in (
        index.delete_document(missing),
        index.add_documents([changed, extra_known, orphan], primary_key="id"),
    ):
        wait_succeeded(client, task.task_uid)
    return missing


def test_a_synced_index_has_no_drift(
    engine: Engine, search_indexes: Indexes, indexed: tuple[str, list[Service]]
) -> None:
    report = check(engine=engine, indexes=search_indexes)
    assert (report.db_documents, report.index_documents, report.drift) == (6, 6, 0)
    assert (report.shards, report.db_shard_documents, report.shard_documents) == (4, 6, 6)


def test_check_reports_each_kind_of_drift_and_fix_repairs_it(
    engine: Engine, meili_client: meilisearch.Client, search_indexes: Indexes, indexed: tuple[str, list[Service]]
) -> None:
    uid, services = indexed
    missing = make_drift(meili_client, uid, services)
    report = check(engine=engine, indexes=search_indexes)
    assert (report.missing, report.differing, report.extra) == (1, 1, 2)
    assert report.examples["extra"] == ["extra-doc-of-a-known-service", "orphan-doc"]
    assert report.examples["missing"] == [missing]
    assert len(report.drifted_services) == 4

    assert enqueue_fix(engine=engine, report=report) == 4
    drain(engine=engine, indexes=search_indexes, everywhere=True)  # as `check --fix` does
    after = check(engine=engine, indexes=search_indexes)
    assert (after.drift, after.index_documents) == (0, 6)


def test_check_covers_every_shard_and_fix_removes_a_copy_in_the_wrong_one(
    engine: Engine, meili_client: meilisearch.Client, search_indexes: Indexes, indexed: tuple[str, list[Service]]
) -> None:
    _, services = indexed
    shard_map = search_indexes.current_map()
    assert shard_map is not None
    first, last = shard_map.shard_for(41.8, -87.6), shard_map.shard_for(41.9, -87.6)
    assert first.uid != last.uid
    stray = the_doc(meili_client, first.uid, services[0])  # a copy left in a shard it does not belong to
    lost = the_doc(meili_client, last.uid, services[5])
    for task in (
        meili_client.index(last.uid).add_documents([stray], primary_key="id"),
        meili_client.index(last.uid).delete_document(lost["id"]),
    ):
        wait_succeeded(meili_client, task.task_uid)
    report = check(engine=engine, indexes=search_indexes)
    assert (report.missing, report.extra, report.differing) == (1, 1, 0)
    assert report.by_index == {last.uid: 2} and report.index_documents == 6

    enqueue_fix(engine=engine, report=report)
    drain(engine=engine, indexes=search_indexes, everywhere=True)
    assert check(engine=engine, indexes=search_indexes).drift == 0
    assert [d["id"] for d in iter_documents(meili_client, first.uid, filter=service_filter([services[0].id]))] == [
        stray["id"]
    ]
    assert list(iter_documents(meili_client, last.uid, filter=service_filter([services[0].id]))) == []


def test_listings_with_pending_changes_are_not_drift(
    engine: Engine, session: Session, search_indexes: Indexes, indexed: tuple[str, list[Service]]
) -> None:
    _, services = indexed
    services[0].name = "Edited Not Yet Synced"
    session.add(services[0])
    record_change(session, [services[0].id])
    session.commit()
    report = check(engine=engine, indexes=search_indexes)
    assert (report.drift, report.pending_services) == (0, 1)


def test_content_hash_ignores_key_order_and_meilisearch_fields() -> None:
    doc = {"id": "1", "name": "A", "_geo": {"lat": 1.5, "lng": 2.0}}
    assert content_hash(doc) == content_hash(
        {"_rankingScore": 0.9, "name": "A", "_geo": {"lng": 2.0, "lat": 1.5}, "id": "1"}
    )
    assert content_hash(doc) != content_hash({**doc, "name": "B"})


def test_content_hash_ignores_the_last_bit_meilisearch_changes_in_a_coordinate() -> None:
    """Meilisearch reads 41.839999999999996 back as 41.84 (its JSON parser does not round-trip every float)."""
    sent = {"id": "1", "lat": 41.839999999999996, "_geo": {"lat": 41.839999999999996, "lng": -87.6}}
    stored = {"id": "1", "lat": 41.84, "_geo": {"lat": 41.84, "lng": -87.6}}
    assert content_hash(sent) == content_hash(stored)
    assert content_hash(sent) != content_hash({**stored, "lat": 41.8401})


# --- command line ----------------------------------------------------------------------------------


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, settings: Settings, meili_server: MeiliServer) -> Iterator[None]:
    monkeypatch.setenv("DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("DATABASE_URL", settings.effective_database_url)
    monkeypatch.setenv("MEILI_URL", meili_server.url)
    monkeypatch.setenv("MEILI_MASTER_KEY", meili_server.api_key)
    monkeypatch.setenv("MEILI_INDEX_PREFIX", settings.meili_index_prefix)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.mark.usefixtures("cli_env")
def test_cli_reindex_then_check_then_fix(
    engine: Engine, session: Session, meili_client: meilisearch.Client, settings: Settings
) -> None:
    services = [insert_listing(session, name=f"Cli Pantry {n}") for n in range(4)]
    runner = CliRunner()
    result = runner.invoke(cli, ["reindex", "--batch-size", "3"])
    assert result.exit_code == 0, result.output
    assert "reindexed 4 documents from 4 listings" in result.output
    assert "1 regional shards" in result.output

    uid = f"{settings.meili_index_prefix}_listings"
    make_drift(meili_client, uid, services)
    result = runner.invoke(cli, ["check"])
    assert result.exit_code == 1
    assert "missing 1, extra 2, differing 1" in result.output and "orphan-doc" in result.output

    result = runner.invoke(cli, ["check", "--fix"])
    assert result.exit_code == 0, result.output
    assert "drift now 0" in result.output
    assert runner.invoke(cli, ["check"]).exit_code == 0
    drop_layout(meili_client, settings.meili_index_prefix)


@pytest.mark.parametrize("command", [[], ["sync"], ["reindex"], ["check"]])
def test_cli_help(command: list[str]) -> None:
    result = CliRunner().invoke(cli, [*command, "--help"])
    assert result.exit_code == 0 and "Usage" in result.output


def test_cli_bad_configuration_is_one_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", "mysql://nobody@127.0.0.1/x")
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, ["check"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "error: DATABASE_URL uses 'mysql'; only sqlite and postgresql are supported"
    ]
