"""The app factory. Engines, Meilisearch and workers are made here or in the lifespan, never at import."""

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy.engine import Engine

from core.db import check_connection, ensure_data_dir, make_engine
from core.logging import configure_logging, get_logger
from core.security import install as install_web_security
from core.settings import PROJECT_ROOT, Settings, get_settings
from core.web import install_error_handlers
from search.embedded import MeiliServer, connect

log = get_logger(__name__)

# Background workers (outbox sync, referral timers) register a factory here: app -> object with stop().
WorkerFactory = Callable[[FastAPI], Any]
WORKER_FACTORIES: list[WorkerFactory] = []


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    owns_meili = app.state.meili is None
    if app.state.engine is None:
        ensure_data_dir(settings.data_dir)
        app.state.engine = make_engine(settings)
        check_connection(app.state.engine)
    if owns_meili:
        app.state.meili = connect(settings)
    workers = [factory(app) for factory in WORKER_FACTORIES] if settings.embedded_workers else []
    app.state.workers = workers
    try:
        yield
    finally:
        for worker in workers:
            worker.stop()
        search_client = getattr(app.state, "search_client", None)  # the search API's client, made on first use
        if search_client is not None and hasattr(search_client, "close"):
            search_client.close()
        if owns_meili and app.state.meili is not None:
            app.state.meili.stop()


def create_app(
    settings: Settings | None = None, *, engine: Engine | None = None, meili: MeiliServer | None = None
) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.log_level, settings.log_json)
    app = FastAPI(
        title="Community Resource Directory",
        version="0.1.0",
        description="Support groups, food, transport and treatment near you, and warm referrals between peers "
        "and organizations.",
        lifespan=lifespan,
        # Swagger UI and ReDoc load from a CDN, which the privacy rules and the CSP forbid;
        # the OpenAPI document itself stays at /openapi.json.
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.meili = meili
    app.state.workers = []
    install_error_handlers(app)
    install_web_security(app)
    app.mount("/static", StaticFiles(directory=str(PROJECT_ROOT / "static")), name="static")
    _include_routers(app)
    return app


def _include_routers(app: FastAPI) -> None:
    from core.health import router as health_router
    from directory.hsds.api import router as hsds_router
    from directory.meeting_guide import router as meeting_guide_router
    from directory.views import router as directory_router
    from search.api import router as search_api_router
    from search.runtime import register_workers
    from search.views import router as search_pages_router

    app.include_router(health_router)
    app.include_router(directory_router)
    app.include_router(search_api_router)
    app.include_router(search_pages_router)
    app.include_router(hsds_router)
    app.include_router(meeting_guide_router)
    register_workers()  # the outbox sync (and first index build) when settings.embedded_workers
    from accounts.admin_views import router as account_admin_router
    from accounts.views import router as accounts_router
    from core.devmail import router as devmail_router
    from directory.freshness import register_worker as register_freshness_worker
    from directory.moderation_views import router as moderation_router
    from directory.suggestion_views import router as suggestions_router
    from directory.workspace_api import router as workspace_api_router
    from directory.workspace_views import router as workspace_router

    app.include_router(accounts_router)
    app.include_router(account_admin_router)
    app.include_router(workspace_router)
    app.include_router(workspace_api_router)
    app.include_router(moderation_router)
    app.include_router(suggestions_router)
    app.include_router(devmail_router)
    register_freshness_worker()  # daily freshness reminders when settings.embedded_workers
    from directory.sources.sync import register_worker as register_feed_sync_worker
    from directory.sources.views import router as feed_sources_router

    app.include_router(feed_sources_router)
    register_feed_sync_worker()  # Meeting Guide feeds, each synced when due, when settings.embedded_workers
    from referrals.views import install as install_referrals

    install_referrals(app)  # referral pages, /api/v1/referrals and the referral timer worker
