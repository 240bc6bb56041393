"""The log never holds personal data or credentials, whatever a call site passes, and stays one line."""

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
import structlog

from core.logging import configure_logging, flush_logs, get_logger

NAME = "Marisol Quintanilla"
PHONE = "312-555-0147"
EMAIL = "marisol.q@example.org"
SID = "Qz3fX9kLmN0pR2sT4uV6wX8yZ1aB3cD5eF7gH9iJ0kL"
TOKEN = "9f8e7d6c5b4a39281706f5e4d3c2b1a0ffeeddccbbaa99887766554433221100"
PASSWORD_HASH = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"
SECRET_KEY = "k7Jd93hsLq0Pz81xVbN4mW2cR6tY5uI8oE3aS9dF1gH"
EVERYTHING = (NAME, PHONE, EMAIL, SID, TOKEN, PASSWORD_HASH, SECRET_KEY, "Marisol", "555-0147")


@dataclass
class Referral:
    """Stands for any object with personal fields: its repr would show them."""

    person_name: str
    contact_detail: str


@pytest.fixture
def read_log(capsys: pytest.CaptureFixture[str]) -> Iterator[Callable[[], str]]:
    configure_logging("DEBUG")  # the handler writes to the (captured) stderr

    def read() -> str:
        flush_logs()
        return capsys.readouterr().err

    yield read
    configure_logging("INFO")


def assert_clean(text: str) -> None:
    leaked = [value for value in EVERYTHING if value in text]
    assert not leaked, f"the log holds {leaked}: {text}"


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({"person_name": NAME, "phone": PHONE, "email": EMAIL}, id="sensitive-keys"),
        pytest.param(
            {"sid": SID, "token": TOKEN, "password_hash": PASSWORD_HASH, "secret_key": SECRET_KEY}, id="creds"
        ),
        pytest.param({"detail": f"reach them at {PHONE}, +1 (312) 555 0147 or {EMAIL}"}, id="values-in-free-text"),
        pytest.param({"cookie_header": f"sid={SID}; lang=es", "auth": f"Bearer {TOKEN}"}, id="header-strings"),
        pytest.param({"context": {"scope": {"headers": [(b"cookie", f"sid={SID}".encode())]}}}, id="nested-asgi-scope"),
        pytest.param({"data": {"referral": {"first": NAME, "reach": [PHONE, EMAIL]}}}, id="nested-values"),
        pytest.param({"data": [{"display_name": NAME}, ({"alias": NAME},)]}, id="names-in-nested-containers"),
        pytest.param({"row": Referral(person_name=NAME, contact_detail=PHONE)}, id="object-repr"),
        pytest.param({"error": f"password hash {PASSWORD_HASH} rejected for {EMAIL}"}, id="error-text"),
        pytest.param({"stored": f"key={SECRET_KEY}&sid={SID}"}, id="query-string"),
        pytest.param({"raw": SID, "hashed": TOKEN}, id="bare-random-tokens"),
    ],
)
def test_structlog_call_sites_cannot_leak(fields: dict[str, object], read_log: Callable[[], str]) -> None:
    get_logger("tests.redaction").warning("something happened", **fields)
    logged = read_log()
    assert "something happened" in logged
    assert_clean(logged)


def test_the_event_text_itself_is_scrubbed(read_log: Callable[[], str]) -> None:
    get_logger("tests.redaction").info(f"mail to {EMAIL} about {PHONE} with sid={SID}")
    logged = read_log()
    assert "mail to [email]" in logged
    assert_clean(logged)


def test_stdlib_records_are_scrubbed_too(read_log: Callable[[], str]) -> None:
    logging.getLogger("uvicorn.error").warning("client %s sent cookie sid=%s", EMAIL, SID)
    logged = read_log()
    assert "client [email] sent cookie sid=" in logged
    assert_clean(logged)


def test_an_exception_is_one_line_with_its_type_and_never_its_message_or_locals(read_log: Callable[[], str]) -> None:
    def as_utc(person_name: str, phone: str) -> None:
        password_hash = PASSWORD_HASH  # a local variable a rich traceback would print
        raise OverflowError(f"date value out of range for {person_name} {phone} {password_hash}")

    try:
        as_utc(NAME, PHONE)
    except OverflowError:
        get_logger("tests.redaction").exception("referral failed", sid=SID)
    logged = read_log()
    lines = [line for line in logged.splitlines() if line.strip()]
    assert len(lines) == 1, logged
    assert "error=OverflowError" in lines[0] and "where=tests/core/test_redaction.py:" in lines[0]
    assert "Traceback" not in logged and "locals" not in logged
    assert_clean(logged)


def test_stdlib_exc_info_is_summarised_the_same_way(read_log: Callable[[], str]) -> None:
    try:
        raise ValueError(f"bad input {EMAIL}")
    except ValueError:
        logging.getLogger("uvicorn.error").exception("Exception in ASGI application")
    logged = read_log()
    assert len([line for line in logged.splitlines() if line.strip()]) == 1
    assert "error=ValueError" in logged
    assert_clean(logged)


def test_json_lines_are_redacted_as_well(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", json=True)
    try:
        structlog.get_logger("tests").info("json", person_name=NAME, note=f"call {PHONE}", sid=SID)
        flush_logs()
        logged = capsys.readouterr().err
    finally:
        configure_logging("INFO")
    assert '"event": "json"' in logged
    assert_clean(logged)


def test_ids_and_ordinary_values_stay_readable(read_log: Callable[[], str]) -> None:
    get_logger("tests.redaction").info(
        "search sync batch", rows=42, index="t1a2b3c4d5_listings", listing="0b0e7c8a-7a4e-4e0f-9b7a-2f1d2c3b4a59"
    )
    logged = read_log()
    assert "rows=42" in logged and "t1a2b3c4d5_listings" in logged
    assert "0b0e7c8a-7a4e-4e0f-9b7a-2f1d2c3b4a59" in logged
