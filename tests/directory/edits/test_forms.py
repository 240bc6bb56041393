"""The edit forms' input rules without HTTP: one message per field, and the code lists they accept."""

import pytest

from core.errors import ValidationFailed
from directory.edits.forms import MeetingForm, OrganizationForm, parse
from directory.listings.meeting_types import CODES


def test_the_meeting_form_accepts_every_meeting_type_of_the_registry() -> None:
    form = parse(MeetingForm, {"fellowship": "aa", "attendance_mode": "in_person", "types": sorted(CODES)})
    assert set(form.types) == CODES and len(CODES) == 87
    with pytest.raises(ValidationFailed) as refused:
        parse(MeetingForm, {"fellowship": "aa", "attendance_mode": "in_person", "types": ["O", "NOPE"]})
    assert refused.value.errors == {"types": "Unknown meeting types: NOPE."}


@pytest.mark.parametrize(
    ("raw", "errors"),
    [
        pytest.param({"name": ""}, {"name": "This field is required."}, id="name-required"),
        pytest.param(
            {"name": "A", "email": "not-an-address"},
            {"email": "Give an e-mail address like name@example.org."},
            id="email-pattern",
        ),
        pytest.param(
            {"name": "A", "email": "a@" + "b" * 320 + ".org"}, {"email": "At most 320 characters."}, id="email-limit"
        ),
        pytest.param(
            {"name": "A", "website": "example.org"},
            {"website": "Give a full web address starting with http:// or https://"},
            id="website-pattern",
        ),
        pytest.param({"name": "x" * 301}, {"name": "At most 300 characters."}, id="name-limit"),
    ],
)
def test_organization_form_messages(raw: dict[str, str], errors: dict[str, str]) -> None:
    with pytest.raises(ValidationFailed) as refused:
        parse(OrganizationForm, raw)
    assert refused.value.errors == errors


def test_blank_fields_are_empty_and_text_is_trimmed() -> None:
    form = parse(OrganizationForm, {"name": "  Riverside  ", "alternate_name": "   ", "description": "", "email": ""})
    assert (form.name, form.alternate_name, form.description, form.email) == ("Riverside", None, "", None)
