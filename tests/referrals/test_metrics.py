"""Metrics from the audit events: rates, median time to acceptance, groupings, suppression, charts and CSV."""

import csv
import io
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import Session

from core.settings import Settings
from referrals import metrics
from referrals.codes import Status
from referrals.service import apply_action
from referrals.timers import run_timers
from referrals.workflow import Action, ActionInput
from tests.factories import NOW, World, make_referral
from tests.html import parse

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def act(
    session: Session,
    world: World,
    settings: Settings,
    referral_id: Any,
    action: Action,
    at: Any,
    who: str = "member",
    **data: Any,
) -> None:
    apply_action(
        session=session,
        referral_id=referral_id,
        actor=getattr(world, who),
        action=action,
        data=ActionInput(**data),
        now=at,
        settings=settings,
    )


@pytest.fixture
def history(session: Session, settings: Settings, world: World) -> None:
    """Five referrals to organization A in March and April 2030, and one entered in error."""
    r1 = make_referral(session, world, settings, Status.requested)
    act(session, world, settings, r1.id, Action.accept, NOW + timedelta(hours=2))
    act(session, world, settings, r1.id, Action.handoff, NOW + timedelta(days=1), handoff_mode="introduction")
    act(session, world, settings, r1.id, Action.complete, NOW + timedelta(days=3), outcome_code="service-received")
    r2 = make_referral(session, world, settings, Status.requested)
    act(session, world, settings, r2.id, Action.accept, NOW + timedelta(hours=4))
    act(session, world, settings, r2.id, Action.fail, NOW + timedelta(days=2), reason_code="no-show")
    r3 = make_referral(session, world, settings, Status.requested)
    act(session, world, settings, r3.id, Action.decline, NOW + timedelta(hours=1), reason_code="at-capacity")
    make_referral(session, world, settings, Status.requested)  # r4 will expire
    run_timers(session=session, settings=settings, now=NOW + timedelta(days=8))
    make_referral(session, world, settings, Status.requested, now=NOW + timedelta(days=35))  # r5, April
    make_referral(session, world, settings, Status.entered_in_error)  # never counted


def test_rates_and_median_for_an_organization(session: Session, world: World, history: None) -> None:
    total = metrics.summarize(metrics.collect(session, organization_id=world.org_a))
    assert (total.sent, total.accepted, total.connected, total.expired, total.completed) == (5, 2, 1, 1, 1)
    assert total.median_hours == pytest.approx(3.0)
    assert total.rate(total.accepted) == pytest.approx(0.4)
    assert dict(total.outcomes) == {"service-received": 1} and dict(total.decline_reasons) == {"at-capacity": 1}
    months = {label: s.sent for label, s in metrics.breakdown(metrics.collect(session), "month")}
    assert months == {"2030-03": 4, "2030-04": 1}
    by_category = metrics.breakdown(metrics.collect(session), "category")
    assert [(label, s.sent) for label, s in by_category] == [("food-pantry", 5)]
    assert metrics.collect(session, organization_id=world.org_b) == []


def test_small_counts_are_suppressed_network_wide(session: Session, world: World, history: None) -> None:
    rows = metrics.collect(session)
    plain = metrics.table_row("all", metrics.summarize(rows), suppress=False)
    hidden = metrics.table_row("all", metrics.summarize(rows), suppress=True)
    assert (plain["sent"], plain["acceptance_rate"], plain["median_time_to_acceptance"]) == ("5", "40%", "3.0 h")
    assert (hidden["sent"], hidden["acceptance_rate"], hidden["median_time_to_acceptance"]) == (
        "<11",
        "suppressed",
        "suppressed",
    )
    assert metrics.count_cell(0, True) == "0" and metrics.count_cell(11, True) == "11"


def test_metrics_page_for_members_with_svg_charts(people: dict[str, Any], world: World, history: None) -> None:
    response = people["member"].browser.get("/referrals/metrics")
    assert response.status_code == 200 and "<script" not in response.text.split("</head>")[1]
    page = parse(response.text)
    assert page.text_of("dd", data_metric="sent") == "5"
    assert page.text_of("dd", data_metric="acceptance_rate") == "40%"
    assert page.text_of("dd", data_metric="median_time_to_acceptance") == "3.0 h"
    assert len(page.find_all("svg", role="img")) == 2 and page.find_all("rect")
    assert "at capacity" in page.text_of("ul", id="metrics-declines").lower()
    assert page.find("table", data_grouping="month")


def test_network_view_for_admins_is_suppressed(people: dict[str, Any], history: None) -> None:
    page = parse(people["admin"].browser.get("/referrals/metrics").text)
    assert page.text_of("dd", data_metric="sent") == "<11"
    assert page.text_of("dd", data_metric="acceptance_rate") == "suppressed"
    assert page.find("p", role="note")


def test_metrics_access(people: dict[str, Any], world: World, history: None) -> None:
    assert people["outsider"].browser.get("/referrals/metrics").status_code == 403
    assert (
        people["member"].browser.get("/referrals/metrics", params={"organization_id": str(world.org_b)}).status_code
        == 403
    )
    assert (
        people["admin"].browser.get("/referrals/metrics", params={"organization_id": str(world.org_a)}).status_code
        == 200
    )
    assert people["member"].api.get("/api/v1/referrals/metrics").json()["total"]["sent"] == "5"
    assert people["admin"].api.get("/api/v1/referrals/metrics").json()["suppressed_small_counts"] is True


def test_csv_export(people: dict[str, Any], history: None) -> None:
    response = people["member"].browser.get("/referrals/metrics.csv")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    overall = next(r for r in rows if r["grouping"] == "all")
    assert (overall["sent"], overall["completion_rate"]) == ("5", "20%")
    assert {r["group"] for r in rows if r["grouping"] == "month"} == {"2030-03", "2030-04"}
    assert next(r for r in rows if r["grouping"] == "decline_reason")["count"] == "1"
    network = list(csv.DictReader(io.StringIO(people["admin"].browser.get("/referrals/metrics.csv").text)))
    assert next(r for r in network if r["grouping"] == "all")["sent"] == "<11"
