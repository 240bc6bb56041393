"""Feed sources: register, list, find and remove them, and retire the meetings a feed no longer has.

Retiring sets the service `defunct` (hidden from search and from the served feed, kept with its audit
history); nothing is ever deleted here. A retired meeting that comes back in its feed is active again.
"""

import uuid
from pathlib import Path
from urllib.parse import urlsplit

from sqlmodel import Session, col, select

from core.clock import utcnow
from core.errors import Conflict, NotFound, ValidationFailed
from core.i18n import N_
from core.outbox import record_change
from directory.listings.models import Meeting, Organization, Service, ServiceStatus
from directory.listings.rows import slugify
from directory.listings.schemas import is_timezone
from directory.listings.taxonomy import FELLOWSHIPS
from directory.sources.models import FeedSource

RETIRED = ServiceStatus.defunct


def fellowship_code(value: str | None) -> str | None:
    """Our fellowship code for a code or a label ("AA", "Al-Anon"); None when unknown."""
    wanted = (value or "").strip().lower()
    for code, known in FELLOWSHIPS.items():
        if wanted and wanted in (code, known.label.lower()):
            return code
    return None


def organization_key(name: str) -> str:
    """The key of the organization named so; the same as a feed `entity` of that name maps to."""
    return f"mg-org:{slugify(name)}"[:150]


def code_for(location: str) -> str:
    """A short code from a feed's location: the file's stem or the URL's host and path."""
    parts = urlsplit(location)
    if parts.scheme in ("http", "https"):
        text = f"{parts.netloc.removeprefix('www.')}-{Path(parts.path).stem}"
    else:
        text = Path(location).name.split(".")[0]
    return slugify(text)[:40].strip("-") or "feed"


def add_source(
    *, session: Session, name: str, location: str, organization: str | None = None, fellowship: str = "AA",
    timezone: str | None = None, code: str | None = None, strict: bool = False, interval_hours: int = 24,
) -> FeedSource:  # fmt: skip
    """Register a feed; `organization` (default: the source's name) is the service body that owns it."""
    source = _new_source(session, name=name, location=location, organization=organization, fellowship=fellowship,
                         timezone=timezone, code=code, strict=strict, interval_hours=interval_hours)  # fmt: skip
    session.commit()
    return source


def _new_source(
    session: Session, *, name: str, location: str, organization: str | None, fellowship: str,
    timezone: str | None, code: str | None, strict: bool, interval_hours: int,
) -> FeedSource:  # fmt: skip
    fellow = fellowship_code(fellowship)
    if fellow is None:
        raise ValidationFailed(N_("unknown fellowship %(fellowship)s", fellowship=repr(fellowship)), field="fellowship")
    if timezone is not None and not is_timezone(timezone):
        raise ValidationFailed(N_("%(timezone)s is not an IANA time zone", timezone=repr(timezone)), field="timezone")
    if not 1 <= interval_hours <= 24 * 30:
        raise ValidationFailed(N_("sync every 1 hour to 30 days"), field="interval_hours")
    code = slugify(code or code_for(location))[:40].strip("-") or "feed"
    taken = session.exec(
        select(FeedSource).where((col(FeedSource.code) == code) | (col(FeedSource.location) == location))
    ).first()
    if taken is not None:
        raise Conflict(
            N_(
                "the feed %(location)s is already registered as %(code)s",
                location=taken.location,
                code=repr(taken.code),
            ),
            field="code",
        )
    source = FeedSource(code=code, name=name.strip() or code, location=location, fellowship=fellow,
                        organization_key=organization_key(organization or name or code),
                        organization_name=(organization or name or code).strip()[:300], timezone=timezone,
                        strict=strict, interval_hours=interval_hours)  # fmt: skip
    session.add(source)
    session.flush()
    return source


def source_for_location(*, session: Session, location: str, fellowship: str, timezone: str | None) -> FeedSource:
    """The source registered for this feed location, else a new one named after it (added to the session,
    not committed: it is saved with the import's own write, and not at all when nothing is written)."""
    found = session.exec(select(FeedSource).where(FeedSource.location == location)).first()
    if found is not None:
        return found
    code = base = code_for(location)
    n = 1
    while session.exec(select(FeedSource.id).where(FeedSource.code == code)).first() is not None:
        n += 1
        code = f"{base[:36]}-{n}"
    return _new_source(session, name=code, location=location, organization=None, fellowship=fellowship,
                       timezone=timezone, code=code, strict=False, interval_hours=24)  # fmt: skip


def source_for_organization(*, session: Session, organization_id: uuid.UUID, fellowship: str) -> FeedSource:
    """The feed an organization uploads in the workspace: one source per organization, all its own meetings."""
    location = f"upload:{organization_id}"
    found = session.exec(select(FeedSource).where(FeedSource.location == location)).first()
    if found is not None:
        return found
    org = session.get(Organization, organization_id)
    if org is None:
        raise NotFound(N_("no such organization"), field="organization")
    source = _new_source(session, name=org.name, location=location, organization=org.name,
                         fellowship=fellowship, timezone=None, code=f"upload-{organization_id.hex[:12]}",
                         strict=False, interval_hours=24 * 30)  # fmt: skip
    source.organization_id = organization_id
    return source


def feed_of(*, session: Session, meeting: Meeting | None) -> FeedSource | None:
    """The feed a meeting comes from, if any: its editor is told that each sync brings the feed's version."""
    if meeting is None or meeting.source_id is None:
        return None
    return session.get(FeedSource, meeting.source_id)


def get_source(*, session: Session, code: str) -> FeedSource:
    found = session.exec(select(FeedSource).where(FeedSource.code == code)).first()
    if found is None:
        raise NotFound(N_("no feed source %(code)s", code=repr(code)), field="code")
    return found


def list_sources(*, session: Session) -> list[FeedSource]:
    return list(session.exec(select(FeedSource).order_by(col(FeedSource.code))))


def remove_source(*, session: Session, code: str) -> int:
    """Unregister a feed: its meetings are retired (kept, hidden), then the source goes. Returns how many."""
    source = get_source(session=session, code=code)
    retired = retire_missing(session=session, source_id=source.id, keep=set())
    session.delete(source)
    session.commit()
    return len(retired)


def retire_missing(*, session: Session, source_id: uuid.UUID, keep: set[str]) -> list[uuid.UUID]:
    """Retire this source's active meetings whose slug is not in `keep`; the caller commits."""
    stmt = (
        select(Service, Meeting.source_slug)
        .join(Meeting, col(Meeting.service_id) == col(Service.id))
        .where(Meeting.source_id == source_id, col(Service.status) != RETIRED)
    )
    retired = [service for service, slug in session.exec(stmt) if slug not in keep]
    now = utcnow()
    for service in retired:
        service.status = RETIRED
        service.last_modified = now
    record_change(session, [s.id for s in retired])
    return [s.id for s in retired]


def served_slugs(*, session: Session, source_id: uuid.UUID) -> tuple[dict[str, str], set[str]]:
    """This source's meetings (source slug -> our served slug) and every served slug other meetings hold."""
    own: dict[str, str] = {}
    taken: set[str] = set()
    for slug, source, source_slug in session.exec(select(Meeting.slug, Meeting.source_id, Meeting.source_slug)):
        if source == source_id and source_slug is not None:
            own[source_slug] = slug
        else:
            taken.add(slug)
    return own, taken
