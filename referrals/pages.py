"""Page contexts (one function per page) and form parsing for the referral HTML views."""

import uuid
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from pydantic import ValidationError
from sqlmodel import Session
from starlette.datastructures import FormData

from accounts.models import User
from core.errors import ValidationFailed
from core.i18n import N_, gettext
from core.input_errors import friendly
from core.settings import Settings
from directory.listings.codes import LANGUAGE_NAMES
from directory.listings.queries import ListingDetail
from referrals import charts, codes, local, metrics, notifications, queries
from referrals.access import Viewer
from referrals.models import Referral
from referrals.records import contact_attempts_for, notes_for
from referrals.schemas import NO_CLINICAL_DETAILS, ActionIn, ReferralCreate
from referrals.workflow import ACTION_LABELS, EVENT_LABELS, Action

CONSENT_DAYS_DEFAULT = 90
VOCABULARIES: dict[str, Any] = {
    "decline_reasons": codes.DECLINE_REASONS,
    "cancel_reasons": codes.CANCEL_REASONS,
    "fail_reasons": codes.FAIL_REASONS,
    "hold_reasons": codes.HOLD_REASONS,
    "outcomes": codes.OUTCOMES,
    "error_reasons": codes.ERROR_REASONS,
    "contact_results": codes.CONTACT_RESULTS,
    "handoff_modes": codes.HANDOFF_MODES,
    "channels": [c.value for c in codes.ContactChannel],
    "urgencies": [u.value for u in codes.Urgency],
    "consent_methods": [m.value for m in codes.ConsentMethod],
    "shared_fields": {
        "first_name": N_("First name or alias"),
        "contact": N_("Contact details and best time"),
        "language": N_("Language"),
        "need": N_("What they need (short text)"),
    },
    "languages": LANGUAGE_NAMES,
    "action_labels": ACTION_LABELS,
    "reasons": codes.ALL_REASONS,
    "no_clinical_details": NO_CLINICAL_DETAILS,
    # Codes in words (the `in_words` filter translates them): statuses, roles, channels...
    "statuses": codes.STATUS_LABELS,
    "business_statuses": codes.BUSINESS_STATUS_LABELS,
    "roles": codes.ROLE_LABELS,
    "channel_labels": codes.CHANNEL_LABELS,
    "urgency_labels": codes.URGENCY_LABELS,
    "consent_method_labels": codes.CONSENT_METHOD_LABELS,
    "followup_labels": codes.FOLLOWUP_LABELS,
    "event_actions": EVENT_LABELS,
    "event_reasons": {**codes.ALL_REASONS, **codes.OUTCOMES},
    # The same code can mean different things ("not-eligible" when declining or when closing): read it by status.
    "reasons_by_status": {
        codes.Status.rejected: codes.DECLINE_REASONS,
        codes.Status.cancelled: {**codes.CANCEL_REASONS, **codes.SYSTEM_REASONS},
        codes.Status.failed: codes.FAIL_REASONS,
        codes.Status.on_hold: codes.HOLD_REASONS,
        codes.Status.entered_in_error: codes.ERROR_REASONS,
    },
}


def csrf_token(request: Request) -> str | None:
    auth = getattr(request.state, "auth", None)
    return getattr(auth, "csrf_token", None)


def base(request: Request, user: User, session: Session, **extra: Any) -> dict[str, Any]:
    return {
        "csrf_token": csrf_token(request),
        "user": user,
        "v": VOCABULARIES,
        "unread": notifications.unread_count(session, user.id),
    } | extra


# --- the referral form -----------------------------------------------------------------------------


def form_defaults(listing: ListingDetail, now: datetime, settings: Settings) -> dict[str, Any]:
    zone = local.listing_zone(listing, settings)
    return {
        "target": "listing",
        "contact_channel": "phone",
        "urgency": "routine",
        "open_radius_miles": "10",
        "need_categories": [t.code for t in listing.categories[:1]],
        "consent_fields": ["first_name", "contact"],
        "consent_method": "verbal",
        "consent_purpose": "To connect them with this service",
        "consent_expires": (now.astimezone(zone).date() + timedelta(days=CONSENT_DAYS_DEFAULT)).isoformat(),
        "open_category": listing.categories[0].code if listing.categories else "",
    }


def form_values(form: FormData) -> dict[str, Any]:
    values: dict[str, Any] = {k: v for k, v in form.items() if isinstance(v, str)}
    values["need_categories"] = [v for v in form.getlist("need_categories") if isinstance(v, str)]
    values["consent_fields"] = [v for v in form.getlist("consent_fields") if isinstance(v, str)]
    return values


def parse_referral_form(values: dict[str, Any], listing: ListingDetail, settings: Settings) -> ReferralCreate:
    is_open = values.get("target") == "open"
    consent: dict[str, Any] | None = None
    if values.get("consent_given"):
        consent = {
            "scope": "open" if is_open else "organization",
            "recipient_organization_id": None if is_open else str(listing.organization.id),
            "fields": values.get("consent_fields") or [],
            "purpose": values.get("consent_purpose", ""),
            "method": values.get("consent_method", ""),
            "expires_at": _end_of_day(values.get("consent_expires", ""), local.listing_zone(listing, settings)),
        }
    raw = {
        "service_id": str(listing.service.id),
        "is_open": is_open,
        "open_category": values.get("open_category") if is_open else None,
        "open_postal_code": values.get("open_postal_code") if is_open else None,
        "open_radius_miles": values.get("open_radius_miles") if is_open else None,
        "person_name": values.get("person_name", ""),
        "contact_channel": values.get("contact_channel", ""),
        "contact_detail": values.get("contact_detail"),
        "contact_time": values.get("contact_time"),
        "language": values.get("language") or None,
        "need_categories": values.get("need_categories") or [],
        "need_text": values.get("need_text"),
        "urgency": values.get("urgency", "routine"),
        "note": values.get("note"),
        "consent": consent,
    }
    try:
        return ReferralCreate.model_validate(raw)
    except ValidationError as exc:
        raise ValidationFailed(N_("Please check the highlighted fields."), errors=field_errors(exc)) from exc


def _end_of_day(text: str, zone: ZoneInfo) -> datetime | str:
    """The chosen day ends at 23:59 in the listing's zone: the day it is shown as again (referrals/local.py)."""
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return text  # pydantic reports it
    return datetime.combine(day, time(23, 59), tzinfo=zone)


def field_errors(exc: ValidationError) -> dict[str, str]:
    errors: dict[str, str] = {}
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ())]
        name = "consent_" + loc[1] if loc[:1] == ["consent"] and len(loc) > 1 else (loc[0] if loc else "form")
        errors[name.replace("consent_expires_at", "consent_expires")] = friendly(err)
    return errors


def parse_action(values: dict[str, Any]) -> ActionIn:
    cleaned = {k: v for k, v in values.items() if k in ActionIn.model_fields and v not in ("", None)}
    try:
        return ActionIn.model_validate(cleaned)
    except ValidationError as exc:
        raise ValidationFailed(N_("Please check the highlighted fields."), errors=field_errors(exc)) from exc


# --- pages -------------------------------------------------------------------------------------------


def detail_context(session: Session, referral: Referral, viewer: Viewer, settings: Settings) -> dict[str, Any]:
    page = queries.detail(session=session, referral=referral, viewer=viewer)
    shown = viewer.content_visible
    return {
        "zone": local.referral_zone(session, referral, settings),
        "org_names": queries.organization_names(session, viewer.candidate_orgs),
        "appointment_at": local.appointment_of(session, referral.id),
        "d": page,
        "r": referral,
        "viewer": viewer,
        "actions": [a.value for a in page.actions],
        "notes": notes_for(session, referral.id) if shown else [],
        "attempts": contact_attempts_for(session, referral.id) if viewer.label in ("P", "O") else [],
        "can_note": shown and viewer.label in ("P", "O") and referral.purged_at is None,
        "can_revoke": viewer.label == "P" and page.consent is not None and page.consent.revoked_at is None,
        "offer_capacity": viewer.label == "O"
        and referral.status_reason_code == "at-capacity"
        and referral.service_id is not None,
        "Action": Action,
    }


# Metric and grouping codes in words (the page, the charts).
METRIC_LABELS = {
    "sent": N_("Sent"),
    "accepted": N_("Accepted"),
    "connected": N_("Connected"),
    "expired": N_("Expired"),
    "completed": N_("Completed"),
    "acceptance_rate": N_("Acceptance rate"),
    "connection_rate": N_("Connection rate"),
    "expiry_rate": N_("Expiry rate"),
    "completion_rate": N_("Completion rate"),
    "organization": N_("Organization"),
    "category": N_("Category"),
    "month": N_("Month"),
}


def metrics_context(
    session: Session, user: User, organization_id: uuid.UUID | None, lang: str = "en"
) -> dict[str, Any]:
    scope = metrics.scope_for(session=session, user=user, organization_id=organization_id)

    def t(message: str) -> str:  # the charts are drawn here, so their words are translated here
        return gettext(lang, message)

    rows = metrics.rows_in(session, scope)
    total = metrics.summarize(rows)
    months = metrics.breakdown(rows, "month")[-12:]
    suppress = scope.suppress

    def series(attr: str) -> list[int | None]:
        return [
            None if suppress and 0 < getattr(s, attr) < metrics.SMALL_COUNT else getattr(s, attr) for _, s in months
        ]

    rate_values = [
        (
            t(METRIC_LABELS[f"{name}_rate"]),
            None if suppress and total.sent < metrics.SMALL_COUNT else total.rate(getattr(total, attr)),
        )
        for name, attr in metrics.RATE_COLUMNS
    ]
    return {
        "scope": scope,
        "total": metrics.table_row("All referrals", total, suppress),
        "groups": {
            by: [metrics.table_row(k, s, suppress) for k, s in metrics.breakdown(rows, by)] for by in metrics.GROUPINGS
        },
        "outcomes": metrics.counter_rows(total.outcomes, dict(codes.OUTCOMES), suppress),
        "declines": metrics.counter_rows(total.decline_reasons, dict(codes.DECLINE_REASONS), suppress),
        "month_chart": charts.column_chart(
            title=t(N_("Referrals by month")),
            labels=[m for m, _ in months],
            series=[(t(METRIC_LABELS[c]), series(c)) for c in ("sent", "accepted", "completed")],
        ),
        "rate_chart": charts.rate_bars(title=t(N_("Rates")), rates=rate_values, no_data=t(N_("suppressed or no data"))),
        "metric_labels": METRIC_LABELS,
        "columns": metrics.COLUMNS,
        "rate_columns": [f"{n}_rate" for n, _ in metrics.RATE_COLUMNS],
    }
