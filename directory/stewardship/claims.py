"""Claiming an existing listing: a signed-in person asks to manage its organization; a network admin decides.

On approval the claimant becomes an admin of the organization (and may then invite editors).
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from accounts.members import make_admin
from accounts.models import User
from accounts.permissions import membership
from core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from core.i18n import N_
from core.mail import Mail, in_both_languages
from directory.edits.models import RequestStatus
from directory.listings.models import Organization, Service
from directory.stewardship import access_requests
from directory.stewardship.models import ClaimRequest
from directory.stewardship.moderation import clean_reason, decide, still_pending


def request_claim(*, session: Session, user: User, service_id: uuid.UUID, message: str, now: datetime) -> ClaimRequest:
    service = session.get(Service, service_id)
    if service is None:
        raise NotFound(N_("This listing does not exist or was removed."))
    if membership(session=session, user=user, organization_id=service.organization_id):
        raise Conflict(N_("You already manage this organization's listings."))
    text = message.strip()
    if not text or len(text) > 2000:
        raise ValidationFailed(
            N_("Tell us, in up to 2000 characters, how you are connected to this organization."), field="message"
        )
    pending = session.exec(
        select(ClaimRequest).where(
            ClaimRequest.user_id == user.id,
            ClaimRequest.organization_id == service.organization_id,
            ClaimRequest.status == RequestStatus.pending,
        )
    ).first()
    if pending is not None:
        raise Conflict(N_("You already asked to manage this organization; a network admin will answer soon."))
    row = ClaimRequest(
        organization_id=service.organization_id, service_id=service.id, user_id=user.id, message=text, created_at=now
    )
    session.add(row)
    session.commit()
    return row


@dataclass(frozen=True)
class ClaimItem:
    claim: ClaimRequest
    organization: Organization
    claimant: User | None  # None: asked without an account (name and proved e-mail on the claim)
    domain_matches: bool  # the address is at the organization's own domain (evidence for the admin)


# Requests made without an account reach the admins only once their e-mail address is proved.
_DECIDABLE = or_(col(ClaimRequest.user_id).is_not(None), col(ClaimRequest.email_verified_at).is_not(None))


def pending_claims(*, session: Session, user: User) -> list[ClaimItem]:
    _network_admin(user)
    stmt = (
        select(ClaimRequest, Organization, User)
        .join(Organization, col(Organization.id) == ClaimRequest.organization_id)
        .outerjoin(User, col(User.id) == ClaimRequest.user_id)
        .where(ClaimRequest.status == RequestStatus.pending, _DECIDABLE)
        .order_by(col(ClaimRequest.created_at))
    )
    return [
        ClaimItem(c, o, u, access_requests.domain_matches(c, o) if u is None else False)
        for c, o, u in session.exec(stmt).all()
    ]


def approve_claim(
    *,
    session: Session,
    user: User,
    claim_id: uuid.UUID,
    now: datetime,
    make_link: Callable[[uuid.UUID], str],
    make_invitation_link: Callable[[str], str] | None = None,
    callback_note: str = "",
) -> tuple[ClaimRequest, list[Mail]]:
    claim = _claim(session, user, claim_id)
    still_pending(claim)
    mails: list[Mail] = []
    if claim.user_id is None:
        if make_invitation_link is None:
            raise ValidationFailed(N_("This request came without an account: it needs an invitation link."))
        _linked, mails = access_requests.approve_access_request(
            session=session,
            admin=user,
            claim=claim,
            callback_note=callback_note,
            now=now,
            make_invitation_link=make_invitation_link,
        )
    else:
        make_admin(session=session, user_id=claim.user_id, organization_id=claim.organization_id)
    decide(claim, user, RequestStatus.approved, now, None)
    session.add(claim)
    session.commit()
    if mails:  # invited: the invitation is the answer
        return claim, mails
    claimant = session.get(User, claim.user_id)
    if claimant is None:
        return claim, []
    paragraphs = [
        N_("Your request to manage listings on the Community Resource Directory was approved."),
        N_("Open your workspace:\n%(link)s"),
    ]
    mail = in_both_languages(
        to=claimant.email,
        subject=N_("Your listing claim was approved"),
        paragraphs=paragraphs,
        values={"link": make_link(claim.organization_id)},
    )
    return claim, [mail]


def reject_claim(*, session: Session, user: User, claim_id: uuid.UUID, reason: str, now: datetime) -> ClaimRequest:
    claim = _claim(session, user, claim_id)
    still_pending(claim)
    decide(claim, user, RequestStatus.rejected, now, clean_reason(reason, required=True))
    session.add(claim)
    session.commit()
    return claim


def my_claims(*, session: Session, user: User) -> list[ClaimRequest]:
    stmt = select(ClaimRequest).where(ClaimRequest.user_id == user.id).order_by(col(ClaimRequest.created_at).desc())
    return list(session.exec(stmt).all())


def _claim(session: Session, user: User, claim_id: uuid.UUID) -> ClaimRequest:
    _network_admin(user)
    claim = session.get(ClaimRequest, claim_id)
    if claim is None or (claim.user_id is None and claim.email_verified_at is None):
        raise NotFound(N_("No such claim."))
    return claim


def _network_admin(user: User) -> None:
    if not user.is_network_admin:
        raise Forbidden(N_("Only network administrators decide on claims."))


def waiting_count(*, session: Session) -> int:
    """Claims waiting for a network admin's decision (the menu's badge)."""
    stmt = (
        select(func.count()).select_from(ClaimRequest).where(ClaimRequest.status == RequestStatus.pending, _DECIDABLE)
    )
    return int(session.exec(stmt).one())
