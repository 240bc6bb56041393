"""Liveness/readiness endpoint for load balancers and `make run` users."""

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
    """Database and search reachability; 503 when the database is down."""
    db_ok = True
    try:
        with request.app.state.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception:
        db_ok = False
    meili = request.app.state.meili
    search_ok = False
    if meili is not None:
        try:
            search_ok = httpx.get(f"{meili.url}/health", timeout=1.0).status_code == 200
        except httpx.HTTPError:
            search_ok = False
    body = {"database": "ok" if db_ok else "down", "search": "ok" if search_ok else "down"}
    return JSONResponse(body, status_code=200 if db_ok else 503)
