"""Asking to manage an organization's listings without an account, and the evidence a network admin weighs.

The person leaves a name, an e-mail address, maybe a phone number and a note; a link sent to the address
proves it is theirs, and only then does the request reach the admins (`claims.pending_claims`). The admin
sees whether the address is at the organization's own domain; when it is not, approving needs a note of a
phone call-back. Approving links the existing account of that address or sends it an invitation as the
organization's admin (`approve_access_request`).
"""

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlmodel import Session, col, select

from accounts import invitations, throttle
from accounts.members import make_admin
from accounts.models import User
from accounts.service import find_user, normalize_email
from accounts.tokens import LinkNotValid, aware, new_token, token_hash
from core.errors import Conflict, NotFound, ValidationFailed
from core.i18n import N_
from core.mail import Mail, in_both_languages
from directory.edits.models import RequestStatus
from directory.listings.models import Organization, Service
from directory.stewardship.models import ClaimRequest

VERIFY_LIFETIME = timedelta(days=2)
LIMITED = N_("Too many requests from this connection. Please try again later.")
NOT_VALID = N_("This confirmation link is not valid any more. Ask again from the listing's page.")
CALLBACK_NEEDED = N_(
    "The e-mail address is not at the organization's own domain: call the person back at the organization's "
    "listed number and note what you checked."
)


def target_of(
    *, session: Session, service_id: uuid.UUID | None, organization_id: uuid.UUID | None
) -> tuple[Organization, Service | None]:
    """The organization asked about (and the listing, when the request started from one)."""
    service = session.get(Service, service_id) if service_id else None
    org_id = service.organization_id if service else organization_id
    organization = session.get(Organization, org_id) if org_id else None
    if organization is None or (service_id and service is None):
        raise NotFound(N_("This listing does not exist or was removed."))
    return organization, service


def claimable_listing(*, session: Session, organization: Organization, service: Service | None) -> Service | None:
    """The listing a signed-in person's claim names: the one asked about, else the organization's first."""
    if service is not None:
        return service
    stmt = select(Service).where(Service.organization_id == organization.id).order_by(col(Service.name)).limit(1)
    return session.exec(stmt).first()


def request_access(
    *,
    session: Session,
    organization: Organization,
    service: Service | None,
    fields: dict[str, str],
    now: datetime,
    secret: str,
    client_ip: str,
    make_link: Callable[[str], str],
) -> tuple[ClaimRequest, list[Mail]]:
    """Store the request unproved and mail the link that proves the address."""
    keys = [throttle.key_for(secret, "access-ip", client_ip)]
    throttle.check(session=session, keys=keys, limit=throttle.SUGGESTION_LIMIT, now=now, message=LIMITED)
    row = _validated(fields, organization.id, service.id if service else None, now)
    if _pending_for(session, row.email or "", organization.id):
        raise Conflict(N_("A request for this organization from this address is already waiting."), field="email")
    raw = new_token()
    row.verify_token_hash = token_hash(raw)
    session.add(row)
    throttle.record(session=session, keys=keys, limit=throttle.SUGGESTION_LIMIT, now=now)
    session.commit()
    paragraphs = [
        N_(
            "Someone (we hope you) asked to manage the listings of %(organization)s on the Community Resource "
            "Directory with this e-mail address."
        ),
        N_("Confirm it within 2 days to send the request to our administrators:\n%(link)s"),
        N_("If it was not you, ignore this message."),
    ]
    mail = in_both_languages(
        to=row.email or "",
        subject=N_("Confirm your request to manage listings"),
        paragraphs=paragraphs,
        values={"organization": organization.name, "link": make_link(raw)},
    )
    return row, [mail]


def _validated(
    fields: dict[str, str], organization_id: uuid.UUID, service_id: uuid.UUID | None, now: datetime
) -> ClaimRequest:
    errors: dict[str, str] = {}
    name, message, phone = (fields.get(k, "").strip() for k in ("display_name", "message", "phone"))
    if not name or len(name) > 200:
        errors["display_name"] = N_("Give your name (up to 200 characters).")
    if not message or len(message) > 2000:
        errors["message"] = N_("Tell us, in up to 2000 characters, how you are connected to this organization.")
    if len(phone) > 40 or (phone and sum(c.isdigit() for c in phone) < 7):
        errors["phone"] = N_("Give a phone number we can call back, or leave it empty.")
    try:
        email = normalize_email(fields.get("email", ""))
    except ValidationFailed:
        errors["email"] = N_("Give a valid e-mail address: we send a link to it.")
    if errors:
        raise ValidationFailed(N_("Please check the highlighted fields."), errors=errors)
    return ClaimRequest(
        organization_id=organization_id,
        service_id=service_id,
        user_id=None,
        email=email,
        display_name=name,
        phone=phone or None,
        message=message,
        created_at=now,
    )


def _pending_for(session: Session, email: str, organization_id: uuid.UUID) -> ClaimRequest | None:
    stmt = select(ClaimRequest).where(
        ClaimRequest.email == email,
        ClaimRequest.organization_id == organization_id,
        ClaimRequest.status == RequestStatus.pending,
    )
    return session.exec(stmt).first()


def confirm_email(*, session: Session, raw: str, now: datetime) -> ClaimRequest:
    """The link from the e-mail: the address is proved and the request goes to the admins. Used once."""
    row = session.exec(select(ClaimRequest).where(col(ClaimRequest.verify_token_hash) == token_hash(raw))).first()
    if row is None or row.status != RequestStatus.pending or aware(row.created_at) + VERIFY_LIFETIME <= now:
        raise LinkNotValid(NOT_VALID)
    row.email_verified_at, row.verify_token_hash = now, None
    session.add(row)
    session.commit()
    return row


def domain_of(value: str | None) -> str | None:
    """The host of a website or the domain of an e-mail address, without `www.`."""
    if not value:
        return None
    host = value.rpartition("@")[2] if "@" in value and "//" not in value else urlsplit(value).hostname
    if host is None and "." in value:
        host = urlsplit(f"https://{value}").hostname
    return host.lower().removeprefix("www.") if host else None


def domain_matches(claim: ClaimRequest, organization: Organization) -> bool:
    """The requester's address is at the organization's own website or e-mail domain."""
    mine = domain_of(claim.email)
    theirs = {domain_of(organization.website), domain_of(organization.email)} - {None}
    return mine is not None and any(mine == d or mine.endswith(f".{d}") for d in theirs if d)


def approve_access_request(
    *,
    session: Session,
    admin: User,
    claim: ClaimRequest,
    callback_note: str,
    now: datetime,
    make_invitation_link: Callable[[str], str],
) -> tuple[uuid.UUID | None, list[Mail]]:
    """Link the address's account as the organization's admin, or invite it as admin. The caller decides
    the claim and commits; returns the linked user's id (None when invited) and the invitation's mail."""
    organization = session.get(Organization, claim.organization_id)
    if organization is None or claim.email is None or claim.email_verified_at is None:
        raise NotFound(N_("No such claim."))
    note = callback_note.strip()
    if len(note) > 1000:
        raise ValidationFailed(N_("Keep the note under 1000 characters."), field="callback_note")
    if not note and not domain_matches(claim, organization):
        raise ValidationFailed(CALLBACK_NEEDED, field="callback_note")
    claim.callback_note = note or None
    existing = find_user(session=session, email=claim.email)
    if existing is not None:
        make_admin(session=session, user_id=existing.id, organization_id=organization.id)
        claim.user_id = existing.id
        return existing.id, []
    _row, mails = invitations.invite(
        session=session,
        actor=admin,
        organization_id=organization.id,
        organization_name=organization.name,
        email=claim.email,
        role="admin",
        now=now,
        make_link=make_invitation_link,
        commit=False,
    )
    return None, mails
