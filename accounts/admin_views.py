"""Network-admin pages for accounts: the list, a new account (its owner sets the password by e-mail),
the active/supervisor/network-admin flags and the peer profile (credential, employer, supervisor)."""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Form, Query, Request
from fastapi.responses import HTMLResponse, Response

from accounts import admin
from accounts.deps import NetworkAdmin
from accounts.models import User
from accounts.organizations import find_organization, search_organizations
from accounts.web import base_context
from core.clock import utcnow
from core.deps import AppSettings, DbSession
from core.errors import DomainError, ValidationFailed
from core.i18n import N_
from core.mail import Mail
from core.openapi import error_responses
from core.web import done, error_fields, link_maker, render, send_later, submit_form, to

router = APIRouter(prefix="/admin/users", tags=["admin"])
FormStr = Annotated[str, Form()]
FormFlag = Annotated[bool, Form()]


def _optional_uuid(value: str, field: str) -> uuid.UUID | None:
    if not value.strip():
        return None
    try:
        return uuid.UUID(value.strip())
    except ValueError:
        raise ValidationFailed(N_("Choose from the list."), field=field) from None


def _user_page(
    request: Request,
    session: DbSession,
    user_id: uuid.UUID,
    *,
    errors: dict[str, str] | None = None,
    status: int = 200,
    employer_q: str = "",
) -> HTMLResponse:
    account = admin.get_user(session=session, user_id=user_id)
    profile = admin.peer_profile(session=session, user_id=user_id)
    context = base_context(
        request,
        account=account,
        profile=profile,
        supervisors=admin.supervisors(session=session),
        errors=errors or {},
        done=request.query_params.get("done"),
        **_employer_choices(session, profile.employer_organization_id if profile else None, employer_q),
    )
    return render(request, "accounts/user.html", context, status_code=status)


def _employer_choices(session: DbSession, current: uuid.UUID | None, query: str) -> dict[str, Any]:
    """The employer picker: the current employer, the organizations whose name matches the search."""
    return {
        "employer": find_organization(session, current) if current else None,
        "employer_q": query,
        "employer_matches": search_organizations(session, query),
    }


@router.get("", response_class=HTMLResponse, name="admin_users")
def users(
    request: Request,
    session: DbSession,
    _admin: NetworkAdmin,
    q: Annotated[str, Query(max_length=320)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    rows, total = admin.list_users(session=session, query=q, page=page)
    context: dict[str, Any] = base_context(
        request,
        users=rows,
        total=total,
        q=q,
        page=page,
        errors={},
        pages=max(1, -(-total // admin.PAGE_SIZE)),
        values={},
    )
    return render(request, "accounts/users.html", context)


@router.post("", name="admin_user_create")
def user_create(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    background: BackgroundTasks,
    _admin: NetworkAdmin,
    email: FormStr = "",
    display_name: FormStr = "",
) -> Response:
    def invalid(exc: DomainError) -> HTMLResponse:
        rows, total = admin.list_users(session=session)
        context = base_context(
            request,
            users=rows,
            total=total,
            q="",
            page=1,
            pages=1,
            errors=error_fields(exc),
            values={"email": email, "display_name": display_name},
        )
        return render(request, "accounts/users.html", context, status_code=exc.status_code)

    def created(result: tuple[User, list[Mail]]) -> str:
        account, mails = result
        send_later(background, settings, mails)
        return to(request, "admin_user", {"done": "created"}, user_id=account.id)

    return submit_form(
        request,
        lambda: admin.create_account(
            session=session,
            email=email,
            display_name=display_name,
            now=utcnow(),
            make_link=link_maker(request, settings, "password_reset"),
        ),
        invalid=invalid,
        then=created,
        errors=(DomainError,),
    )


@router.get("/{user_id}", response_class=HTMLResponse, name="admin_user")
def user_page(
    request: Request,
    session: DbSession,
    _admin: NetworkAdmin,
    user_id: uuid.UUID,
    employer_q: Annotated[str, Query(max_length=200)] = "",
) -> HTMLResponse:
    return _user_page(request, session, user_id, employer_q=employer_q)


@router.get("/{user_id}/employers", response_class=HTMLResponse, name="admin_user_employers")
def employer_options(
    request: Request,
    session: DbSession,
    _admin: NetworkAdmin,
    user_id: uuid.UUID,
    employer_q: Annotated[str, Query(max_length=200)] = "",
) -> HTMLResponse:
    """The picker's choices for what was typed so far (htmx swaps them in; without JS the page does it)."""
    profile = admin.peer_profile(session=session, user_id=admin.get_user(session=session, user_id=user_id).id)
    context = base_context(
        request, **_employer_choices(session, profile.employer_organization_id if profile else None, employer_q)
    )
    return render(request, "accounts/_employer_options.html", context)


@router.post("/{user_id}/flags", name="admin_user_flags", responses=error_responses(409))
def user_flags(
    request: Request,
    session: DbSession,
    actor: NetworkAdmin,
    user_id: uuid.UUID,
    is_active: FormFlag = False,
    is_supervisor: FormFlag = False,
    is_network_admin: FormFlag = False,
) -> Response:
    admin.update_flags(
        session=session,
        actor=actor,
        user_id=user_id,
        is_active=is_active,
        is_supervisor=is_supervisor,
        is_network_admin=is_network_admin,
    )
    return done(request, to(request, "admin_user", {"done": "flags"}, user_id=user_id))


@router.post("/{user_id}/peer", name="admin_user_peer")
def user_peer(
    request: Request,
    session: DbSession,
    _admin: NetworkAdmin,
    user_id: uuid.UUID,
    is_peer: FormFlag = False,
    credential: FormStr = "",
    employer_organization_id: FormStr = "",
    supervisor_id: FormStr = "",
) -> Response:
    return submit_form(
        request,
        lambda: admin.set_peer_profile(
            session=session,
            user_id=user_id,
            is_peer=is_peer,
            credential=credential,
            employer_organization_id=_optional_uuid(employer_organization_id, "employer_organization_id"),
            supervisor_id=_optional_uuid(supervisor_id, "supervisor_id"),
        ),
        invalid=lambda exc: _user_page(request, session, user_id, errors=error_fields(exc), status=422),
        then=lambda _: to(request, "admin_user", {"done": "peer"}, user_id=user_id),
    )
