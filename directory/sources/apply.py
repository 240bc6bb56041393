"""Write one feed source's meetings: create and update by (source, slug), retire what the feed dropped.

Lenient by default: a row the reader or the mapping cannot use is reported with severity "skipped" and the
rest of the feed goes in; such a row's meeting, if we have it, is kept as it was (not retired), since the
feed still names it. In strict mode any error leaves everything unchanged. The served slug of a new meeting
is its feed slug, or, when another source already serves that slug, the slug followed by the source's code.
"""

import dataclasses
import uuid
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError
from rich.progress import Progress
from sqlmodel import Session, col, select

from core.errors import DomainError
from directory.hsds.report import ImportReport, Problem
from directory.listings.models import Organization, Service
from directory.listings.rows import organization_id, service_id, slugify
from directory.listings.schemas import ListingIn, LocationIn, OrganizationIn
from directory.listings.service import ensure_taxonomy
from directory.meeting_guide.reader import FeedRow, read_feed
from directory.sources.models import FeedSource
from directory.sources.service import retire_missing, served_slugs
from directory.sources.writer import write_listings

# The Meeting Guide mapping of one clean entry to a listing (directory.meeting_guide.importer.to_listing),
# passed in by the importer so that this module and the importer do not import each other.
ToListing = Callable[..., ListingIn]


def apply_feed(
    *, session: Session, feed: FeedSource, data: Any, name: str, report: ImportReport, strict: bool,
    fellowship: str, timezone: str | None, to_listing: ToListing, progress: Progress | None = None,
) -> None:  # fmt: skip
    """Read `data` (a parsed feed) and write it as `feed`'s meetings; everything found goes in `report`."""
    read = read_feed(data, name)
    for problem in read.problems:
        _add(report, problem, strict)
    if not isinstance(data, list) or (strict and not report.ok):
        return
    owner = _owner(session, feed)
    own, taken = served_slugs(session=session, source_id=feed.id)
    used = set(own.values())
    listings: list[ListingIn] = []
    task = progress.add_task(f"read {name}", total=len(read.rows)) if progress else None
    for row in read.rows:
        served = own.get(row.entry["slug"]) or _new_slug(row.entry["slug"], feed.code, taken, used)
        entry = row.entry
        if str(entry.get("entity") or "").casefold() == owner.name.casefold():
            entry = {**entry, "entity": None}  # the service body names itself: its meetings are the owner's
        try:
            listings.append(to_listing(entry, feed=feed, served_slug=served, fellowship=fellowship,
                                       default_zone=timezone, owner=owner))  # fmt: skip
        except (ValidationError, ValueError) as exc:
            for problem in _mapping_problems(name, row, exc):
                _add(report, problem, strict)
        if progress is not None and task is not None:
            progress.advance(task)
    if strict and not report.ok:
        return
    _write(session, feed, _shared(listings), read.slugs, report, name)


def _add(report: ImportReport, problem: Problem, strict: bool) -> None:
    # A row-level error only skips that row unless the operator asked for all-or-nothing.
    lenient = not strict and problem.severity == "error" and problem.row is not None
    report.add(dataclasses.replace(problem, severity="skipped") if lenient else problem)


def _mapping_problems(name: str, row: FeedRow, exc: Exception) -> list[Problem]:
    if isinstance(exc, ValidationError):
        return [Problem(name, row.row, ".".join(str(p) for p in err["loc"] if not isinstance(p, int)) or None,
                        err["msg"]) for err in exc.errors()]  # fmt: skip
    return [Problem(name, row.row, None, str(exc))]


def _new_slug(slug: str, code: str, taken: set[str], used: set[str]) -> str:
    base = slugify(slug)[:150]
    candidate, n = base, 1
    while candidate in taken or candidate in used:
        candidate = f"{base}-{code}" if n == 1 else f"{base}-{code}-{n}"
        n += 1
    used.add(candidate)
    return candidate


def _owner(session: Session, feed: FeedSource) -> OrganizationIn:
    """The service body as it is now, so that writing its meetings never rewrites its own details."""
    org = session.get(Organization, feed.organization_id or organization_id(feed.organization_key))
    if org is None:
        return OrganizationIn(key=feed.organization_key, name=feed.organization_name)
    # Built without validation: the stored values are the organization's own, and are written back unchanged.
    return OrganizationIn.model_construct(key=feed.organization_key, id=feed.organization_id, name=org.name,
                                          alternate_name=org.alternate_name, description=org.description,
                                          website=org.website, email=org.email)  # fmt: skip


def _shared(listings: list[ListingIn]) -> list[ListingIn]:
    """Meetings that share a place or an entity share one row: the first meeting's version of it, with the
    accessibility of every meeting there (a type like X describes the place, whichever meeting names it)."""
    orgs: dict[str, OrganizationIn] = {}
    places: dict[str, LocationIn] = {}
    access: dict[str, list[str]] = {}
    for listing in listings:
        orgs.setdefault(listing.organization.key, listing.organization)
        for place in listing.locations:
            places.setdefault(place.key, place)
            access.setdefault(place.key, []).extend(place.accessibility)
    merged = {key: place.model_copy(update={"accessibility": list(dict.fromkeys(access[key]))})
              for key, place in places.items()}  # fmt: skip
    return [
        listing.model_copy(update={"organization": orgs[listing.organization.key],
                                   "locations": [merged[p.key] for p in listing.locations]})
        for listing in listings
    ]  # fmt: skip


def _write(session: Session, feed: FeedSource, listings: list[ListingIn], named: set[str], report: ImportReport,
           name: str) -> None:  # fmt: skip
    ids = [service_id(listing.key) for listing in listings]
    existing = _existing(session, ids)
    try:
        ensure_taxonomy(session=session)
        retired = retire_missing(session=session, source_id=feed.id, keep=named)
        changed = write_listings(session=session, listings=listings)  # commits the retirements too
    except DomainError as exc:
        session.rollback()
        report.add(Problem(name, None, exc.field, f"nothing was changed: {exc.message}"))
        return
    counts = report.count("meeting")
    counts.inserted = len(set(ids) - existing)
    counts.retired = len(retired)
    counts.updated = len(set(changed) & existing)
    counts.unchanged = len(ids) - counts.inserted - counts.updated
    report.rows_read = len(listings)
    report.services_changed = len(set(changed) | set(retired))


def _existing(session: Session, ids: list[uuid.UUID]) -> set[uuid.UUID]:
    found: set[uuid.UUID] = set()
    for start in range(0, len(ids), 900):
        chunk = ids[start : start + 900]
        found |= set(session.exec(select(Service.id).where(col(Service.id).in_(chunk))).all())
    return found
