"""The app factory. Engines, Meilisearch and workers are made here or in the lifespan, never at import."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy.engine import Engine
from starlette.middleware.gzip import GZipMiddleware

from core import i18n
from core.conditional import VersionedCache
from core.cors import PublicReadCORSMiddleware
from core.db import check_connection, ensure_data_dir, make_engine
from core.domains import DOMAINS
from core.logging import configure_logging, get_logger
from core.openapi import install as install_openapi
from core.request_context import RequestContextMiddleware
from core.security import GZIP_MINIMUM_SIZE, HeadersMiddleware
from core.settings import PROJECT_ROOT, Settings, get_settings
from core.web import install_error_handlers, templates
from core.workers import WorkerFactory
from search.embedded import MeiliServer, connect
from search.supervisor import supervise

log = get_logger(__name__)


def worker_factories() -> list[WorkerFactory]:
    """Every domain's background workers (outbox sync, freshness reminders, referral timers)."""
    return [factory for domain in DOMAINS for factory in domain.workers()]


# Public, read-only data other websites may fetch from a visitor's browser (core/cors.py); exact paths,
# or prefixes ending in "/". Nothing that needs an account belongs here.
PUBLIC_READ_PATHS = ("/api/meeting-guide.json", "/api/meeting-guide/", "/api/hsds/", "/api/v1/search")


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
        app.state.meili_supervisor = supervise(
            app.state.meili, start_timeout=settings.meili_start_timeout, max_restarts=settings.meili_max_restarts
        )
    from accounts.devmail import announce as announce_dev_mailbox

    announce_dev_mailbox(settings)
    workers = [factory(app) for factory in worker_factories()] if settings.embedded_workers else []
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
            app.state.meili.stop()  # marks it stopping first: the supervisor never restarts it after this
            if app.state.meili_supervisor is not None:
                app.state.meili_supervisor.stop()


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
    app.state.meili_supervisor = None  # set in the lifespan when the app starts its own Meilisearch
    app.state.workers = []
    app.state.static_cache = VersionedCache()  # built feeds and API pages, by data version
    install_error_handlers(app)
    app.add_middleware(PublicReadCORSMiddleware, paths=PUBLIC_READ_PATHS)  # inside the security headers
    i18n.install(templates.env)  # real per-request translations in the shared template environment
    # The header middleware sits inside gzip, where the language middleware used to, so `Vary` keeps its order.
    from accounts.caching import needs_no_store
    from accounts.navigation import install as install_menu

    install_menu(templates.env)
    app.state.menu_items = [item for domain in DOMAINS for item in domain.menu()]

    app.add_middleware(HeadersMiddleware, no_store_when=needs_no_store)
    app.add_middleware(GZipMiddleware, minimum_size=GZIP_MINIMUM_SIZE)
    app.add_middleware(RequestContextMiddleware)  # outermost: the request id covers every other layer
    app.mount("/static", StaticFiles(directory=str(PROJECT_ROOT / "static")), name="static")
    _include_routers(app)
    install_openapi(app)  # the document describes the real errors and content types of every route
    return app


def _include_routers(app: FastAPI) -> None:
    from core.health import router as health_router

    app.include_router(health_router)
    for domain in DOMAINS:
        for router in domain.routers():
            app.include_router(router)
