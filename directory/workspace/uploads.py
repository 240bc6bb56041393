"""Bulk update from the workspace: an organization uploads an HSDS data package or a Meeting Guide feed.

The importers (`directory.hsds.importer`, `directory.meeting_guide.importer`) validate everything and write
all or nothing. Here they run in a transaction we hold open: their final commit only flushes, so before
anything is committed we check that the upload changed no listing of another organization, add an audit
row per changed listing, and only then commit (or roll everything back and say why).
"""

import re
import shutil
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any, BinaryIO, Literal

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from accounts.models import User
from core.errors import Forbidden, ValidationFailed
from core.i18n import N_
from core.outbox import OutboxEvent
from directory.edits import audit
from directory.edits.models import ChangeVia
from directory.edits.service import access_for
from directory.hsds.report import ImportReport, Problem
from directory.listings.models import Organization
from directory.listings.queries import ListingDetail, load_listings

Kind = Literal["hsds", "meeting_guide"]
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
ALLOWED_SUFFIXES = (".csv", ".json", ".ndjson", ".jsonl", ".zip")
AUDITED = ("name", "status", "capacity", "capacity_note", "reopening_date", "assured_date", "organization_id")
_TIMESTAMPS = frozenset({"created_at", "last_modified", "capacity_updated_at"})
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


class _HeldSession(Session):
    """A session whose `commit()` only flushes, so the caller decides after the importer has finished."""

    def commit(self) -> None:
        self.flush()

    def really_commit(self) -> None:
        super().commit()


@dataclass(frozen=True)
class Upload:
    filename: str
    stream: BinaryIO


def save_uploads(uploads: Sequence[Upload], folder: Path) -> list[Path]:
    """Copy uploaded files into `folder` under safe names; refuse unknown types and oversized uploads."""
    saved: list[Path] = []
    total = 0
    for upload in uploads:
        name = _SAFE_NAME.sub("_", Path(upload.filename or "upload").name)[:100] or "upload"
        if not name.lower().endswith(ALLOWED_SUFFIXES):
            raise ValidationFailed(
                N_("Upload CSV files with their datapackage.json, JSON files, or one zip file."), field="files"
            )
        target = folder / name
        with target.open("wb") as out:
            shutil.copyfileobj(upload.stream, out)
        total += target.stat().st_size
        if total > MAX_UPLOAD_BYTES:
            raise ValidationFailed(
                N_("The upload is larger than 20 MB; split it or ask a network admin."), field="files"
            )
        saved.append(target)
    if not saved:
        raise ValidationFailed(N_("Choose at least one file."), field="files")
    return saved


def import_upload(
    *,
    engine: Engine,
    session: Session,
    user: User,
    organization_id: uuid.UUID,
    kind: Kind,
    files: list[Path],
    fellowship: str,
    now: datetime,
) -> ImportReport:
    """Run the importer for this organization; nothing is kept unless it only touched this organization."""
    if not access_for(session=session, user=user, organization_id=organization_id).can_manage:
        raise Forbidden(N_("Only the organization's admins make bulk updates."))
    marker = session.exec(select(func.max(OutboxEvent.id))).one() or 0
    with _HeldSession(engine, expire_on_commit=False) as held:
        report = _run_importer(held, kind, files, fellowship, user.email, organization_id)
        if not report.ok:
            held.rollback()
            return report
        written = _changed_services(held, marker)
        before, after = _committed_state(engine, written), _current_state(held, written)
        changed = [sid for sid in written if before.get(sid) != after.get(sid)]
        # A new listing has no state before, a removed one none after: only real states name an owner.
        touched = [state for sid in changed for state in (before.get(sid), after.get(sid)) if state]
        foreign = sorted({str(t.get("organization_id")) for t in touched} - {str(organization_id)})
        if foreign:
            held.rollback()
            message = (
                f"the upload would add or change listings of another organization ({_names(session, foreign)});"
                " nothing was changed. Upload only your own listings."
            )
            report.add(Problem(files[0].name, None, "organization", message))
            return report
        _audit_import(
            held, user, organization_id, kind, {sid: (before.get(sid), after.get(sid)) for sid in changed}, now
        )
        held.really_commit()
    return report


def _audit_import(
    held: Session,
    user: User,
    organization_id: uuid.UUID,
    kind: str,
    changes: dict[uuid.UUID, tuple[dict[str, Any] | None, dict[str, Any] | None]],
    now: datetime,
) -> None:
    actor = audit.Actor.of(user, via=ChangeVia.import_)
    for sid, (before, after) in changes.items():
        audit.record(
            held,
            actor=actor,
            organization_id=organization_id,
            service_id=sid,
            entity="service",
            entity_id=sid,
            action=f"import.{kind}",
            before=_brief(before),
            after=_brief(after),
            now=now,
        )


def _run_importer(
    held: Session, kind: Kind, files: list[Path], fellowship: str, actor: str, organization_id: uuid.UUID
) -> ImportReport:
    if kind == "hsds":
        from directory.hsds.importer import import_hsds

        return import_hsds(session=held, path_or_files=files, actor=actor)
    from directory.meeting_guide.importer import import_meeting_guide
    from directory.sources.service import fellowship_code, source_for_organization

    if len(files) != 1:
        raise ValidationFailed(N_("A Meeting Guide feed is one JSON file."), field="files")
    # The organization's own feed source: re-uploading updates and retires its meetings, never another's.
    code = fellowship_code(fellowship) or "aa"
    feed = source_for_organization(session=held, organization_id=organization_id, fellowship=code)
    return import_meeting_guide(session=held, source=files[0], fellowship=fellowship, actor=actor, feed=feed)


def _changed_services(held: Session, marker: int) -> list[uuid.UUID]:
    stmt = select(OutboxEvent.entity_id).where(col(OutboxEvent.id) > marker, OutboxEvent.entity == "service")
    return sorted(set(held.exec(stmt).all()))


def _rows(session: Session, ids: list[uuid.UUID]) -> dict[uuid.UUID, dict[str, Any]]:
    """Each listing as plain data (the public read model, without timestamps), to tell real changes apart:
    the importers give an outbox row to every listing they write, changed or not."""
    found: dict[uuid.UUID, dict[str, Any]] = {}
    for start in range(0, len(ids), 500):
        for detail in load_listings(session, ids[start : start + 500]):
            found[detail.service.id] = _plain(detail)
    return found


def _plain(detail: ListingDetail) -> dict[str, Any]:
    def dump(row: Any) -> dict[str, Any]:
        return {k: audit.json_value(v) for k, v in row.model_dump().items() if k not in _TIMESTAMPS}

    return {
        **{k: audit.json_value(getattr(detail.service, k)) for k in AUDITED},
        "service": dump(detail.service),
        "organization": dump(detail.organization),
        "places": sorted(
            (
                [
                    dump(p.location),
                    dump(p.address) if p.address else None,
                    sorted(a.code or "" for a in p.accessibility),
                ]
                for p in detail.places
            ),
            key=str,
        ),
        "schedules": sorted((dump(x) for x in detail.schedules), key=str),
        "meeting": dump(detail.meeting) if detail.meeting else None,
        "categories": sorted(t.code or "" for t in detail.categories),
        "languages": sorted(x.code or "" for x in detail.languages),
        "phones": sorted((dump(x) for x in detail.phones), key=str),
        "costs": sorted((dump(x) for x in detail.costs), key=str),
    }


def _committed_state(engine: Engine, ids: list[uuid.UUID]) -> dict[uuid.UUID, dict[str, Any]]:
    """The listings as they were before the import: read through another connection, which does not see
    the import (it is not committed)."""
    with Session(engine) as other:
        return _rows(other, ids)


def _current_state(held: Session, ids: list[uuid.UUID]) -> dict[uuid.UUID, dict[str, Any]]:
    held.expire_all()
    return _rows(held, ids)


def _brief(plain: dict[str, Any] | None) -> dict[str, Any] | None:
    """What the audit keeps of an imported listing: the main fields plus its hours."""
    if plain is None:
        return None
    return {
        **{k: plain[k] for k in AUDITED},
        "hours": [{k: h.get(k) for k in ("byday", "opens_at", "closes_at", "timezone")} for h in plain["schedules"]],
    }


def _names(session: Session, org_ids: list[str]) -> str:
    ids = [uuid.UUID(i) for i in org_ids if i not in ("None", "")]
    names = session.exec(select(Organization.name).where(col(Organization.id).in_(ids))).all() if ids else []
    return ", ".join(names[:5]) or "unknown"


def import_uploads(
    *,
    engine: Engine,
    session: Session,
    user: User,
    organization_id: uuid.UUID,
    kind: str,
    uploads: Sequence[Upload],
    fellowship: str,
    now: datetime,
) -> ImportReport:
    """Save the uploaded files in a private temporary folder, import them, and remove them."""
    if kind not in ("hsds", "meeting_guide"):
        raise ValidationFailed(N_("Choose the kind of file."), field="kind")
    if not access_for(session=session, user=user, organization_id=organization_id).can_manage:
        raise Forbidden(N_("Only the organization's admins make bulk updates."))
    with TemporaryDirectory(prefix="workspace-upload-") as tmp:
        files = save_uploads(uploads, Path(tmp))
        return import_upload(
            engine=engine,
            session=session,
            user=user,
            organization_id=organization_id,
            kind="hsds" if kind == "hsds" else "meeting_guide",
            files=files,
            fellowship=fellowship,
            now=now,
        )
