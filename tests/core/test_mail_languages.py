"""Every e-mail reads in English, then in Spanish: the subject, each paragraph, words inside a sentence (a role)
and the values (links, names) as they are."""

from core.i18n import N_, Message, translate
from core.mail import in_both_languages


def test_a_mail_carries_both_languages_with_values_and_translated_words() -> None:
    mail = in_both_languages(
        to="editor@example.org",
        subject=N_("Invitation to the Community Resource Directory"),
        paragraphs=[
            N_(
                "You are invited to help keep the listings of %(organization)s up to date on the Community "
                "Resource Directory, as %(role)s."
            ),
            N_("Accept the invitation (valid for 7 days):\n%(link)s"),
        ],
        values={"organization": "Northside 100% Neighbors", "link": "https://example.org/invitations/abc"},
        words={"role": "admin"},
    )
    assert (
        mail.subject
        == "Invitation to the Community Resource Directory / Invitación al Directorio de Recursos Comunitarios"
    )
    english, spanish = mail.body.split("\n\n— Español —\n\n")
    assert "of Northside 100% Neighbors up to date on the Community Resource Directory, as admin." in english
    assert "Le invitamos a ayudar a mantener al día las fichas de Northside 100% Neighbors" in spanish
    assert "como administrador." in spanish
    assert english.endswith("https://example.org/invitations/abc") and spanish.endswith(
        "https://example.org/invitations/abc\n"
    )


def test_messages_with_values_translate_their_template_and_words() -> None:
    message = N_("Choose %(what)s (%(choices)s).", what=Message(N_("a reason"), {}), choices="duplicate, other")
    assert message == "Choose a reason (duplicate, other)."
    assert translate("es", message) == "Elija un motivo (duplicate, other)."
    assert translate("es", "Not in the catalog: 100%") == "Not in the catalog: 100%"
