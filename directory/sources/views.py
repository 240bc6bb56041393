"""Network-admin pages for feed sources: every source with its last sync, and one source's counts, warnings
and errors by row (in the visitor's language, like every page)."""

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse

from accounts.deps import NetworkAdmin
from accounts.web import base_context
from core.deps import DbSession
from core.i18n import N_, gettext, request_lang
from core.web import render
from directory.sources.models import SOURCE_CODE_PATTERN
from directory.sources.service import get_source, list_sources

router = APIRouter(prefix="/admin/feeds", tags=["admin"])
SHOWN_PROBLEMS = 500
STATUS = {"imported": N_("imported"), "unchanged": N_("unchanged, nothing written"),
          "not-modified": N_("not modified (HTTP 304), nothing written"), "failed": N_("failed")}  # fmt: skip
SEVERITY = {"error": N_("error"), "warning": N_("warning"), "skipped": N_("row skipped")}


def _labels(request: Request) -> dict[str, dict[str, str]]:
    lang = request_lang(request)
    return {"status_labels": {k: gettext(lang, v) for k, v in STATUS.items()},
            "severity_labels": {k: gettext(lang, v) for k, v in SEVERITY.items()}}  # fmt: skip


@router.get("", response_class=HTMLResponse, name="admin_feeds")
def feeds(request: Request, session: DbSession, _admin: NetworkAdmin) -> HTMLResponse:
    context = {**base_context(request, sources=list_sources(session=session)), **_labels(request)}
    return render(request, "directory/sources/list.html", context)


@router.get("/{code}", response_class=HTMLResponse, name="admin_feed")
def feed(
    request: Request,
    session: DbSession,
    _admin: NetworkAdmin,
    code: Annotated[str, Path(pattern=SOURCE_CODE_PATTERN)],
) -> HTMLResponse:
    source = get_source(session=session, code=code)
    problems = source.last_problems or []
    page = base_context(request, source=source, problems=problems[:SHOWN_PROBLEMS], more=len(problems) > SHOWN_PROBLEMS)
    context = {**page, **_labels(request)}
    return render(request, "directory/sources/source.html", context)
