"""Referral work in Spanish: the pages, their statuses and reasons in words, the messages of a refused form or
action, and the e-mail (English, then Spanish) — what a Spanish-speaking peer or intake worker reads."""

from email import message_from_bytes, policy
from typing import Any

import pytest
from sqlmodel import Session

from core.settings import Settings
from referrals.codes import Status
from tests.factories import World, make_referral
from tests.html import parse
from tests.referrals.test_views import form_for

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def test_the_detail_page_shows_statuses_roles_and_reasons_in_spanish_words(
    people: dict[str, Any], world: World, session: Session, settings: Settings
) -> None:
    referral = make_referral(session, world, settings, Status.rejected)  # declined as "not-eligible"
    page = parse(people["peer"].browser.get(f"/referrals/{referral.id}?lang=es").text)
    assert page.text_of(id="referral-status") == "Rechazada"
    assert page.text_of(id="referral-reason") == "La persona no cumple los requisitos"
    history = page.text_of(id="history")
    assert "Organización que recibe" in history and "Especialista de pares que deriva" in history
    assert "Esperando respuesta → Rechazada" in history
    assert "requested" not in history and "rejected" not in history and "not-eligible" not in history


def test_a_refused_form_explains_itself_in_spanish(people: dict[str, Any], world: World) -> None:
    url = f"/services/{world.service_a.id}/refer?lang=es"
    no_name = people["peer"].post_form(url, form_for(world, person_name=""))
    assert no_name.status_code == 422
    assert parse(no_name.text).text_of("span", id="person_name-error") == "Este campo es obligatorio."
    no_consent = people["peer"].post_form(url, form_for(world, consent_given=""))
    assert no_consent.status_code == 422
    errors = parse(no_consent.text).text_of("ul", class_="field-errors")
    assert "Registre el consentimiento de la persona antes de enviar la derivación." in errors


def test_a_refused_action_explains_itself_in_spanish(
    people: dict[str, Any], world: World, session: Session, settings: Settings
) -> None:
    referral = make_referral(session, world, settings, Status.requested)
    response = people["member"].post_form(f"/referrals/{referral.id}/actions/decline?lang=es", {"reason_code": "nope"})
    assert response.status_code == 422
    message = parse(response.text).text_of("p", class_="field-error")
    assert message.startswith("Elija un motivo (at-capacity, ")


def test_error_pages_translate_the_domain_message(people: dict[str, Any], world: World) -> None:
    response = people["member"].browser.get(f"/services/{world.service_a.id}/refer?lang=es")
    assert response.status_code == 403
    detail = parse(response.text).text_of("p", class_="detail")
    assert detail == "Solo los especialistas de apoyo entre pares con perfil de pares pueden enviar derivaciones."


def test_notification_mail_is_in_english_then_spanish(world: World, session: Session, settings: Settings) -> None:
    make_referral(session, world, settings, Status.requested)
    files = sorted((settings.data_dir / "mail").glob("*.eml"))
    assert files, "sending a referral notifies the receiving organization"
    mail = message_from_bytes(files[0].read_bytes(), policy=policy.default)
    assert mail["Subject"] == "A referral is waiting for a response / Una derivación espera respuesta"
    body = mail.get_body().get_content()  # type: ignore[union-attr]
    english, spanish = body.split("— Español —")
    assert "A new referral was sent to your organization." in english
    assert "Se envió una derivación nueva a su organización." in spanish
    assert "Inicie sesión para verla:" in spanish and "/referrals/" in spanish


def test_metrics_page_and_charts_in_spanish(
    people: dict[str, Any], world: World, session: Session, settings: Settings
) -> None:
    make_referral(session, world, settings, Status.completed)
    response = people["member"].browser.get("/referrals/metrics?lang=es")
    assert response.status_code == 200
    page = parse(response.text)
    summary = page.text_of("dl", id="metrics-summary")
    assert "Enviado" in summary and "Tasa de aceptación" in summary and "acceptance_rate" not in summary
    assert "<title" in response.text and "Derivaciones por mes</title>" in response.text
