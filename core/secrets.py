"""The application's secret key: SECRET_KEY when set, else generated once into DATA_DIR/secret_key (mode 0600).

It signs the anonymous form tokens (login, password reset, public suggestions) and keys the hashes of
client addresses used for rate limiting, so it must be the same across processes and restarts.
"""

import os
import secrets
import threading
from pathlib import Path

from core.errors import ConfigurationError
from core.settings import Settings

FILE_NAME = "secret_key"
_lock = threading.Lock()
_cache: dict[Path, str] = {}


def secret_key(settings: Settings) -> str:
    if settings.secret_key:
        return settings.secret_key
    return file_secret(settings.data_dir / FILE_NAME)


def file_secret(path: Path) -> str:
    """A secret generated once into `path` (mode 0600) and read back ever after (cached per path)."""
    path = path.resolve()
    with _lock:
        if path not in _cache:
            _cache[path] = _read_or_create(path)
        return _cache[path]


def _read_or_create(path: Path) -> str:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            # O_EXCL: when two processes start at once, exactly one writes the key and both read it.
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            value = path.read_text().strip()
            if len(value) < 32:
                raise ConfigurationError(f"{path} is too short to be a secret key; delete it to regenerate") from None
            return value
        value = secrets.token_urlsafe(48)
        with os.fdopen(fd, "w") as handle:
            handle.write(value)
        return value
    except OSError as exc:
        raise ConfigurationError(f"cannot read or create the secret key file {path} ({exc.strerror})") from exc
