"""Query understanding: words in the search box that name a fellowship ("NA", "al anon"), a kind of help
("bus", "groceries", "detox") or a time ("tonight", "esta noche") become filters, shown to the seeker as
chips they can remove. English and Spanish.

Why: the index matches words, so "NA" also matches the prefix of "Naltrexone", "bus" matches nothing (no
listing says "bus") and "tonight" matches meetings whose description says "tonight". Read as filters,
they find what the person meant. Each understood phrase leaves the text query, so it no longer competes
with the words that are left.

Pure: `understand` reads text; `apply` turns a reading into search parameters for an instant and a zone.
Codes come from the taxonomy and the fellowship list (`directory.listings.taxonomy`); this module only
adds the everyday words that point at them.
"""

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from types import MappingProxyType

from core.errors import NotFound
from core.i18n import N_
from directory.listings.geocoding import resolve_place, timezone_for
from directory.listings.taxonomy import CATEGORY_CODES, FELLOWSHIPS
from search.schemas import SearchParams
from search.timeslots import is_zone, zone

FELLOWSHIP, CATEGORY, TIME, KIND, ATTENDANCE, LANGUAGE = (
    "fellowship",
    "category",
    "time",
    "kind",
    "attendance",
    "language",
)
MAX_PHRASE = 5  # words

# Spellings and other languages' names of the fellowships; each code and English label counts as well.
FELLOWSHIP_ALIASES: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "aa": ("alcoholicos anonimos",),
    "na": ("narcoticos anonimos",),
    "smart": ("smart recovery",),
    "al-anon": ("alanon", "al anon", "grupos de familia al anon"),
    "alateen": ("ala teen",),
    "ca": ("cocainomanos anonimos", "cocaina anonimos"),
    "cma": ("cristal meth anonimos",),
    "ga": ("jugadores anonimos", "gamblers"),
    "oa": ("comedores compulsivos anonimos",),
    "slaa": ("adictos al sexo y al amor anonimos", "sex and love addicts"),
    "aca": ("acoa", "adult children", "hijos adultos de alcoholicos"),
    "nar-anon": ("naranon", "nar anon"),
    "recovery-dharma": ("refuge recovery",),
    "celebrate-recovery": ("celebra la recuperacion",),
})  # fmt: skip
# Fellowships that include another: Alateen is part of Al-Anon Family Groups.
FELLOWSHIP_INCLUDES: Mapping[str, tuple[str, ...]] = MappingProxyType({"al-anon": ("alateen",)})
# Fellowships whose code is not a word anyone types for them.
_NO_CODE_WORD = frozenset({"peer-led", "mental-health-peer", "grief"})
# Everyday words for a kind of help -> category code (a broad one where the person's words are broad).
CATEGORY_WORDS: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "rides-to-treatment": ("ride to treatment", "rides to treatment", "ride to rehab", "ride to meetings"),
    "transport": (
        "bus", "buses", "bus pass", "bus fare", "ride", "rides", "van", "transit", "train", "taxi", "cab",
        "transportation", "transport", "gas money", "autobus", "autobuses", "camion", "transporte", "raite",
        "aventon", "pasaje", "pase de autobus", "viaje", "viajes",
    ),
    "food": (
        "groceries", "grocery", "pantry", "food pantry", "food bank", "food shelf", "food", "meal", "meals",
        "hungry", "soup kitchen", "lunch", "dinner", "breakfast", "comida", "comidas", "despensa",
        "alimentos", "banco de alimentos", "despensa de alimentos", "viveres", "mandado", "mandados", "almuerzo",
        "cena", "desayuno", "comedor", "hambre",
    ),
    "withdrawal-management": (
        "detox", "detoxification", "withdrawal", "desintoxicacion", "desintox", "detox medico", "abstinencia",
    ),
    "treatment": ("rehab", "rehabilitation", "rehabilitacion", "tratamiento", "treatment"),
    "emergency-shelter": ("shelter", "homeless shelter", "refugio", "albergue"),
    "housing": ("housing", "vivienda"),
    "sober-living": ("sober living", "sober house", "recovery house", "vivienda sobria", "casa sobria"),
    "clothing": ("clothes", "clothing", "coat", "coats", "ropa", "abrigo", "abrigos"),
    "crisis-services": ("crisis", "crisis line", "hotline", "suicide", "linea de crisis", "suicidio"),
    "harm-reduction": (
        "narcan", "test strips", "fentanyl test strips", "syringes", "needle exchange", "clean needles",
        "harm reduction", "reduccion de danos", "jeringas", "tiras reactivas",
    ),
})  # fmt: skip
# Other words that name a filter value: (kind of filter, code) -> phrases.
OTHER_WORDS: Mapping[tuple[str, str], tuple[str, ...]] = MappingProxyType({
    (KIND, "meeting"): ("meeting", "meetings", "reunion", "reuniones", "junta", "juntas"),
    (ATTENDANCE, "online"): ("online", "virtual", "zoom", "en linea", "por internet", "por zoom"),
    (LANGUAGE, "es"): ("spanish", "in spanish", "espanol", "en espanol", "hispano", "hispana"),
})  # fmt: skip
# Time words -> a window key (see `window`).
TIME_WORDS: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "now": ("now", "right now", "open now", "ahora", "ahorita", "ahora mismo", "abierto ahora", "abierta ahora"),
    "today": ("today", "hoy"),
    "tonight": ("tonight", "tonite", "this evening", "esta noche", "hoy en la noche"),
    "this-morning": ("this morning", "esta manana"),
    "tomorrow": ("tomorrow", "manana"),
    "this-weekend": ("this weekend", "weekend", "este fin de semana", "fin de semana"),
})  # fmt: skip
TIME_LABELS: Mapping[str, str] = MappingProxyType({
    "now": N_("Now or within the hour"),
    "today": N_("Today"),
    "tonight": N_("Tonight"),
    "this-morning": N_("This morning"),
    "tomorrow-morning": N_("Tomorrow morning"),
    "tomorrow": N_("Tomorrow"),
    "this-weekend": N_("This weekend"),
})  # fmt: skip
# Words after a fellowship's name that add nothing to it ("NA meeting", "grupo de AA" reads AA anyway).
_FELLOWSHIP_FILLER = frozenset({"meeting", "meetings", "group", "groups", "reunion", "reuniones", "junta", "juntas"})
_FELLOWSHIP_LEAD = frozenset((word, "de") for word in ("reunion", "reuniones", "junta", "juntas", "grupo", "grupos"))
# Words that mean nothing once the rest was understood ("comida de hoy", "a ride for me"): alone they would
# still have to match, and "de" matches only Spanish listings.
_CONNECTORS = frozenset({
    "a", "an", "the", "for", "in", "of", "at", "to", "on", "with", "near", "me", "my", "i", "need", "find", "any",
    "some", "de", "del", "la", "el", "los", "las", "en", "para", "por", "y", "con", "cerca", "mi", "un", "una",
    "necesito", "busco", "quiero", "hay",
})  # fmt: skip
_NAME_BEFORE_TIME = frozenset({"for", "por"})
_WORD = re.compile(r"[^\W_]+", re.UNICODE)


@dataclass(frozen=True, slots=True)
class Part:
    """One understood phrase: what it means and where it stands in the text."""

    kind: str  # fellowship | category | time | kind | attendance | language
    value: str  # a fellowship or category code, or a time key
    words: str  # as typed
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Reading:
    text: str
    parts: tuple[Part, ...]

    @property
    def rest(self) -> str:
        """The words not understood: what the index still matches (none when only connectors are left)."""
        rest = _cut(self.text, self.parts)
        return "" if self.parts and set(_words(rest)) <= _CONNECTORS else rest

    def without(self, part: Part) -> str:
        """The text without one understood phrase: the link that removes its chip."""
        return _cut(self.text, [part])

    def values(self, kind: str) -> tuple[str, ...]:
        return tuple(dict.fromkeys(p.value for p in self.parts if p.kind == kind))


def fold(text: str) -> str:
    """Lower case without accents: "Mañana" and "manana", "Alcohólicos" and "alcoholicos" read the same."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _words(text: str) -> tuple[str, ...]:
    return tuple(_WORD.findall(fold(text)))


def _phrase_table() -> dict[tuple[str, ...], tuple[str, str]]:
    table: dict[tuple[str, ...], tuple[str, str]] = {}

    def add(kind: str, value: str, phrases: Iterable[str]) -> None:
        for phrase in phrases:
            key = _words(phrase)
            if key and len(key) <= MAX_PHRASE:
                table.setdefault(key, (kind, value))

    for key, phrases in TIME_WORDS.items():
        add(TIME, key, phrases)
    for code, fellowship in FELLOWSHIPS.items():
        names = [n.strip() for n in fellowship.label.split("/") if "(" not in n]
        add(FELLOWSHIP, code, [*([] if code in _NO_CODE_WORD else [code]), *names, *FELLOWSHIP_ALIASES.get(code, ())])
    for code, phrases in CATEGORY_WORDS.items():
        if code not in CATEGORY_CODES:
            raise ValueError(f"unknown category code {code!r} in CATEGORY_WORDS")
        add(CATEGORY, code, phrases)
    for (kind, value), phrases in OTHER_WORDS.items():
        add(kind, value, phrases)
    return table


PHRASES: Mapping[tuple[str, ...], tuple[str, str]] = MappingProxyType(_phrase_table())
FUZZY_MIN = 6  # letters: shorter words ("smart" / "start") are corrected into something else too easily
_VOCABULARY = frozenset(w for phrase in PHRASES for w in phrase if len(w) >= FUZZY_MIN)


def _one_edit(a: str, b: str) -> bool:
    """One letter changed, added, dropped, or two neighbours swapped."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) == 1 or (
            len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] == b[diff[0] + 1]
        )
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    i = next((i for i in range(len(short)) if short[i] != long_[i]), len(short))
    return short[i:] == long_[i + 1 :]


def _corrected(word: str) -> str:
    """A word of the phrases one typo away ("alanonn", "anonymus"), when exactly one is; else the word."""
    if len(word) < FUZZY_MIN or word in _VOCABULARY:
        return word
    near = [known for known in _VOCABULARY if _one_edit(word, known)]
    return near[0] if len(near) == 1 else word


def understand(text: str) -> Reading:
    """The understood phrases of `text`, longest first, left to right."""
    spans = [(m.start(), m.end()) for m in _WORD.finditer(text)]
    words = [_corrected(fold(text[a:b])) for a, b in spans]
    # Folding can split one typed word in two ("ß" -> "ss" stays one; ligatures may not): keep spans aligned.
    if len(words) != len(spans) or any(len(_words(w)) != 1 for w in words):
        return Reading(text, ())
    parts: list[Part] = []
    i = 0
    while i < len(words):
        found = _longest(words, i)
        if found is None:
            i += 1
            continue
        n, (kind, value) = found
        if kind == TIME and i > 0 and words[i - 1] in _NAME_BEFORE_TIME:
            i += n  # "Just for Today", "Sólo por hoy": a meeting's name, not a time
            continue
        begin, end = i, i + n
        if kind == FELLOWSHIP and end < len(words) and words[end] in _FELLOWSHIP_FILLER:
            end += 1
        if kind == FELLOWSHIP and i >= 2 and tuple(words[i - 2 : i]) in _FELLOWSHIP_LEAD:
            if parts and parts[-1].kind == KIND and parts[-1].start == spans[i - 2][0]:
                parts.pop()  # "reunión de AA": the meeting word belongs to the fellowship
            if not parts or parts[-1].end <= spans[i - 2][0]:
                begin = i - 2
        start_char, end_char = spans[begin][0], spans[end - 1][1]
        parts.append(Part(kind, value, text[start_char:end_char], start_char, end_char))
        i = end
    # "Rides to recovery meetings" asks for rides, not for meetings: a category wins over the kind.
    if any(p.kind == CATEGORY for p in parts):
        parts = [p for p in parts if p.kind != KIND]
    if any(p.kind == FELLOWSHIP for p in parts):  # a fellowship's listings are meetings already
        parts = [p for p in parts if p.kind != KIND]
    return Reading(text, tuple(parts))


def _longest(words: list[str], i: int) -> tuple[int, tuple[str, str]] | None:
    for n in range(min(MAX_PHRASE, len(words) - i), 0, -1):
        meaning = PHRASES.get(tuple(words[i : i + n]))
        if meaning is not None:
            return n, meaning
    return None


def _cut(text: str, parts: Iterable[Part]) -> str:
    kept, at = [], 0
    for part in sorted(parts, key=lambda p: p.start):
        kept.append(text[at : part.start])
        at = part.end
    kept.append(text[at:])
    return " ".join("".join(kept).split())


# --- time windows in the viewer's zone --------------------------------------------------------------


def _wall(day: date, hour: int, tz_name: str) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=zone(tz_name))


def window(key: str, at: datetime, tz_name: str) -> tuple[int, int, str]:
    """(minutes from `at` to the window's start, to its end, the key shown): evenings run 17:00-02:00,
    mornings 05:00-12:00; "this morning" after noon means tomorrow's."""
    local = at.astimezone(zone(tz_name))
    today, shown = local.date(), key
    tomorrow = today + timedelta(days=1)
    if key == "now":
        start, end = local, local + timedelta(hours=1)
    elif key == "today":
        start, end = local, _wall(tomorrow, 0, tz_name)
    elif key == "tonight" and local.hour < 5:
        start, end = local, _wall(today, 5, tz_name)
    elif key == "tonight":
        start, end = _wall(today, 17, tz_name), _wall(tomorrow, 2, tz_name)
    elif key == "this-morning" and local.hour < 12:
        start, end = _wall(today, 5, tz_name), _wall(today, 12, tz_name)
    elif key == "this-morning":
        start, end, shown = _wall(tomorrow, 5, tz_name), _wall(tomorrow, 12, tz_name), "tomorrow-morning"
    elif key == "tomorrow":
        start, end = _wall(tomorrow, 0, tz_name), _wall(tomorrow + timedelta(days=1), 0, tz_name)
    else:  # this-weekend: Saturday and Sunday, or what is left of them
        saturday = today + timedelta(days=(5 - today.weekday()) % 7 if today.weekday() < 5 else 0)
        monday = today + timedelta(days=7 - today.weekday())
        start, end = _wall(saturday, 0, tz_name), _wall(monday, 0, tz_name)
    low = max(0, int((start - at).total_seconds() // 60))
    high = max(low + 1, int((end - at).total_seconds() // 60))
    return low, high, shown


def apply(params: SearchParams, reading: Reading, *, at: datetime, tz_name: str) -> tuple[SearchParams, Reading]:
    """The parameters the reading asks for, and the reading as shown (a window's key may change, see `window`).

    Understood codes join those already chosen (the filter panel's checkboxes); a time word is one more
    time filter. Without a place, a time word sorts by start time unless a sort was chosen.
    """
    if not reading.parts:
        return params, reading
    tz_name = tz_name if is_zone(tz_name) else "UTC"
    times = [p for p in reading.parts if p.kind == TIME]
    bounds, parts = None, list(reading.parts)
    if times:
        low, high, shown = window(times[-1].value, at, tz_name)
        bounds = (low, high)
        parts = [replace(p, value=shown) if p is times[-1] else p for p in parts if p.kind != TIME or p is times[-1]]
    changed = replace(
        params,
        q=reading.rest,
        fellowships=tuple(dict.fromkeys(params.fellowships + _with_included(reading.values(FELLOWSHIP)))),
        categories=tuple(dict.fromkeys(params.categories + reading.values(CATEGORY))),
        languages=tuple(dict.fromkeys(params.languages + reading.values(LANGUAGE))),
        kind=params.kind or next(iter(reading.values(KIND)), None),
        attendance=params.attendance or next(iter(reading.values(ATTENDANCE)), None),
        window=bounds,
        sort=params.sort or ("soonest" if bounds and not params.has_point_input else None),
    )
    return changed, Reading(reading.text, tuple(parts))


def _with_included(codes: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(c for code in codes for c in (code, *FELLOWSHIP_INCLUDES.get(code, ())))


def viewer_zone(params: SearchParams, *, tz_given: bool) -> str:
    """The zone "tonight" is counted in: the browser's (`tz`), else the place's, else UTC."""
    if tz_given and is_zone(params.tz):
        return params.tz
    try:
        if params.lat is not None and params.lng is not None:
            return timezone_for(params.lat, params.lng) or "UTC"
        if params.near:
            return resolve_place(params.near).timezone or "UTC"
    except NotFound:
        pass  # the search itself reports the unknown place
    return "UTC"


def read(params: SearchParams, *, tz_given: bool, now: datetime) -> tuple[SearchParams, Reading]:
    """The search box's words read (see `understand`) and applied in the viewer's zone."""
    reading = understand(params.q)
    if not reading.parts:
        return params, reading
    return apply(params, reading, at=params.at or now, tz_name=viewer_zone(params, tz_given=tz_given))
