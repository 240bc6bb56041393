"""Liveness/readiness endpoint for load balancers and `make run` users."""

from typing import Any

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import text

router = APIRouter()


class Health(BaseModel):
    database: str = Field(description="`ok` or `down`")
    search: str = Field(description="`ok` or `down`")


@router.get(
    "/healthz",
    name="health",
    tags=["ops"],
    response_class=JSONResponse,
    response_model=Health,
    responses={503: {"model": Health, "description": "The database is down"}},
)
def health(request: Request) -> JSONResponse:
    """Database and search reachability; 503 when the database is down.

    `search` is ok, down, restarting (the embedded Meilisearch died and is being started again) or failed
    (it kept dying and is no longer restarted; `search_detail` says what to do)."""
    db_ok = True
    try:
        with request.app.state.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception:
        db_ok = False
    body: dict[str, Any] = {"database": "ok" if db_ok else "down", **_search_status(request)}
    return JSONResponse(body, status_code=200 if db_ok else 503)


def _search_status(request: Request) -> dict[str, str]:
    supervisor = request.app.state.meili_supervisor
    if supervisor is not None and supervisor.status != "ok":
        status = supervisor.status
        return {"search": status, "search_detail": supervisor.detail} if status == "failed" else {"search": status}
    meili = request.app.state.meili
    search_ok = False
    if meili is not None:
        try:
            search_ok = httpx.get(f"{meili.url}/health", timeout=1.0).status_code == 200
        except httpx.HTTPError:
            search_ok = False
    return {"search": "ok" if search_ok else "down"}
