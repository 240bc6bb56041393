"""Reading the search box: fellowships, everyday words and time words become filters (pure, no index)."""

from datetime import datetime

import pytest

from search.schemas import SearchParams
from search.understanding import CATEGORY_WORDS, apply, understand, window

TUESDAY_4PM_CHICAGO = datetime.fromisoformat("2026-03-10T16:00:00-05:00")


def meaning(text: str) -> list[tuple[str, str]]:
    return [(p.kind, p.value) for p in understand(text).parts]


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("AA", "aa"), ("na", "na"), ("CA", "ca"), ("CMA", "cma"), ("GA", "ga"), ("OA", "oa"), ("SLAA", "slaa"),
        ("ACA", "aca"), ("Al-Anon", "al-anon"), ("Alanon", "al-anon"), ("al anon", "al-anon"),
        ("Alateen", "alateen"), ("Nar-Anon", "nar-anon"), ("SMART", "smart"), ("Recovery Dharma", "recovery-dharma"),
        ("Refuge Recovery", "recovery-dharma"), ("Celebrate Recovery", "celebrate-recovery"),
        ("Narcóticos Anónimos", "na"), ("alcoholicos anonimos", "aa"), ("narcotcs anonymous", "na"),
    ],
)  # fmt: skip
def test_fellowship_names_and_acronyms(text: str, code: str) -> None:
    reading = understand(text)
    assert meaning(text) == [("fellowship", code)] and reading.rest == ""


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("bus", "transport"), ("ride", "transport"), ("van", "transport"), ("autobús", "transport"),
        ("groceries", "food"), ("pantry", "food"), ("comida", "food"), ("despensa de alimentos", "food"),
        ("detox", "withdrawal-management"), ("desintoxicación", "withdrawal-management"), ("ropa", "clothing"),
        ("rehab", "treatment"), ("refugio", "emergency-shelter"),
    ],
)  # fmt: skip
def test_everyday_words_name_categories(text: str, code: str) -> None:
    assert meaning(text) == [("category", code)]


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("now", "now"), ("ahora", "now"), ("tonight", "tonight"), ("esta noche", "tonight"), ("today", "today"),
        ("hoy", "today"), ("this morning", "this-morning"), ("esta mañana", "this-morning"), ("mañana", "tomorrow"),
        ("this weekend", "this-weekend"), ("este fin de semana", "this-weekend"),
    ],
)  # fmt: skip
def test_time_words(text: str, key: str) -> None:
    assert meaning(text) == [("time", key)]


def test_the_words_left_are_searched_and_each_chip_removes_only_its_words() -> None:
    reading = understand("NA speaker meeting tonight")
    assert meaning("NA speaker meeting tonight") == [("fellowship", "na"), ("time", "tonight")]
    assert reading.rest == "speaker meeting"
    na, tonight = reading.parts
    assert reading.without(na) == "speaker meeting tonight" and reading.without(tonight) == "NA speaker meeting"
    assert understand("reunión de AA esta noche").rest == "", "the meeting words belong to the fellowship"
    assert understand("comida de hoy").rest == "", "connectors alone are not searched"


def test_words_that_only_look_alike_stay_words() -> None:
    for text in ("naltrexone", "naloxone", "start", "refugee", "Women's Big Book", "canada", "meth"):
        assert understand(text).parts == (), text


def test_for_today_is_part_of_a_meetings_name() -> None:
    assert meaning("Just for Today") == [] and meaning("sólo por hoy") == []
    assert meaning("Hope for Today Al-Anon") == [("fellowship", "al-anon")]
    assert meaning("NA today") == [("fellowship", "na"), ("time", "today")]


def test_a_ride_to_meetings_is_a_ride_not_a_meeting() -> None:
    assert meaning("rides to recovery meetings") == [("category", "transport")]
    assert ("kind", "meeting") in meaning("meetings tonight")


def test_every_category_word_points_at_a_known_category() -> None:
    from directory.listings.taxonomy import CATEGORY_CODES

    assert set(CATEGORY_WORDS) <= CATEGORY_CODES


def test_time_windows_in_the_viewers_zone() -> None:
    # 16:00 in Chicago is 15:00 in Denver: "tonight" starts an hour later for a viewer there.
    assert window("tonight", TUESDAY_4PM_CHICAGO, "America/Chicago") == (60, 600, "tonight")
    assert window("tonight", TUESDAY_4PM_CHICAGO, "America/Denver") == (120, 660, "tonight")
    assert window("now", TUESDAY_4PM_CHICAGO, "America/Chicago") == (0, 60, "now")
    assert window("today", TUESDAY_4PM_CHICAGO, "America/Chicago") == (0, 480, "today")
    assert window("this-morning", TUESDAY_4PM_CHICAGO, "America/Chicago")[2] == "tomorrow-morning"
    saturday_start, monday_start, _ = window("this-weekend", TUESDAY_4PM_CHICAGO, "America/Chicago")
    assert (saturday_start, monday_start) == ((3 * 24 + 8) * 60, (5 * 24 + 8) * 60)


def test_apply_adds_filters_to_those_chosen_and_sorts_by_time_without_a_place() -> None:
    params = SearchParams(q="Al-Anon tonight", fellowships=("aa",))
    changed, shown = apply(params, understand(params.q), at=TUESDAY_4PM_CHICAGO, tz_name="America/Chicago")
    assert changed.q == "" and changed.fellowships == ("aa", "al-anon", "alateen")
    assert changed.window == (60, 600) and changed.sort == "soonest"
    assert [p.value for p in shown.parts] == ["al-anon", "tonight"]
    near, _ = apply(
        SearchParams(q="NA tonight", near="60614"), understand("NA tonight"), at=TUESDAY_4PM_CHICAGO, tz_name="UTC"
    )
    assert near.sort is None, "with a place, the nearest come first"
