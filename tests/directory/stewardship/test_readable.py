"""Review in words: a held change shows hours as the listing does ("Mon-Fri 11:30-13:00", en dashes), codes as their
labels and times in the organization's zone, before and after side by side; reopening clears the date."""

import uuid
from datetime import date

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from accounts.models import OrgRole
from directory.edits.models import ChangeRequest
from directory.edits.readable import day_spans
from directory.listings.models import Service
from tests.factories import add_member, make_listing, make_user
from tests.html import parse
from tests.support import signed_in_as

DASH = "\u2013"  # the en dash of ranges, as the listing writes them
LUNCH = {
    "timezone": "America/Chicago",
    "row_count": "1",
    "rows-0-days": ["MO", "TU", "WE", "TH", "FR"],
    "rows-0-opens_at": "11:30",
    "rows-0-closes_at": "13:00",
}


def _member(session: Session, service: Service, role: str, trusted: bool = False) -> str:
    email = f"{role}-{uuid.uuid4().hex[:6]}@example.org"
    add_member(session, make_user(session, email), service.organization_id, role, trusted=trusted)
    return email


def _held(web: TestClient, session: Session, service: Service, section: str, data: dict) -> ChangeRequest:
    csrf = signed_in_as(web, session, _member(session, service, OrgRole.editor))
    response = web.post(f"/workspace/services/{service.id}/{section}", data={"csrf_token": csrf, **data})
    assert response.status_code in (200, 303)
    return session.exec(select(ChangeRequest).where(ChangeRequest.service_id == service.id)).one()


def _cells(web: TestClient, session: Session, change: ChangeRequest, service: Service, lang: str = "en") -> dict:
    signed_in_as(web, session, _member(session, service, OrgRole.admin))
    page = parse(web.get(f"/workspace/moderation/changes/{change.id}", params={"lang": lang}).text)
    return {
        row.attrs["data-field"]: {
            "label": " ".join(page.find_all("th", scope="row")[i].text.split()),
            "before": " ".join(page.find_all("td", class_="before")[i].text.split()),
            "after": " ".join(page.find_all("td", class_="after")[i].text.split()),
        }
        for i, row in enumerate(page.find_all("tr", data_field=True))
    }


def test_held_hours_read_as_the_listing_shows_them(web: TestClient, session: Session) -> None:
    service = make_listing(session)  # open Monday and Wednesday 09:00-12:00
    change = _held(web, session, service, "hours", LUNCH)
    hours = _cells(web, session, change, service)["hours"]
    assert hours == {
        "label": "Hours",
        "before": f"Mon, Wed 09:00{DASH}12:00",
        "after": f"Mon{DASH}Fri 11:30{DASH}13:00",
    }
    spanish = _cells(web, session, change, service, lang="es")["hours"]
    assert spanish["after"] == f"Lun{DASH}vie 11:30{DASH}13:00"


def test_a_held_status_change_reads_in_words(web: TestClient, session: Session) -> None:
    service = make_listing(session)
    data = {"status": "temporarily closed", "reopening_date": "2031-05-01"}
    cells = _cells(web, session, _held(web, session, service, "status", data), service)
    assert cells["status"] == {"label": "Status", "before": "Open", "after": "Temporarily closed"}
    assert cells["reopening_date"] == {"label": "Reopens on", "before": "—", "after": "2031-05-01"}


def test_reopening_clears_the_reopening_date(web: TestClient, session: Session) -> None:
    service = make_listing(session)
    csrf = signed_in_as(web, session, _member(session, service, OrgRole.admin))
    closed = {"csrf_token": csrf, "status": "temporarily closed", "reopening_date": "2031-05-01"}
    assert web.post(f"/workspace/services/{service.id}/status", data=closed, follow_redirects=False).status_code == 303
    session.expire_all()
    assert session.get(Service, service.id).reopening_date == date(2031, 5, 1)  # type: ignore[union-attr]
    # The form still carries the old date, as it does in a browser: reopening must not need it cleared.
    reopen = {**closed, "status": "active"}
    assert web.post(f"/workspace/services/{service.id}/status", data=reopen, follow_redirects=False).status_code == 303
    session.expire_all()
    row = session.get(Service, service.id)
    assert row is not None and row.status == "active" and row.reopening_date is None


def test_weekdays_group_into_runs() -> None:
    assert day_spans(["FR", "MO", "TU", "WE", "TH"]) == ((0, 4),)
    assert day_spans(["MO", "WE", "SA", "SU"]) == ((0, 0), (2, 2), (5, 6))
    assert day_spans([]) == ()
