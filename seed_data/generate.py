"""Deterministic generator of realistic, fictional listings on real US ZIP centres (100 to 1,000,000).

`generate(size, seed)` streams `ListingIn` objects: it walks "sites" (a church hosting meetings, a food
pantry, a clinic...), each with one organization, usually one location jittered around a real ZIP centre
(time zone from the ZIP data) and one or more services. About 55% of listings are meetings; of those
about 15% are online-only and 10% hybrid. One `random.Random(seed)` drives everything and nothing depends
on `size`, so the first N listings of a bigger run equal a smaller run (loading more later only adds).
Dates are relative to `today`; pass it to get identical output on different days.
"""

import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, time, timedelta
from functools import lru_cache
from typing import Any

import zipcodes

from core.clock import utcnow
from directory.listings.rows import slugify
from directory.listings.schemas import ListingIn, is_timezone
from directory.listings.taxonomy import FELLOWSHIPS

DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
DAY_NAMES = dict(zip(DAYS, ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"), strict=True))
STREETS = (
    "Main",
    "Oak",
    "Maple",
    "Washington",
    "Lincoln",
    "Park",
    "Church",
    "Elm",
    "Lake",
    "Hill",
    "Cedar",
    "Pine",
    "Jefferson",
    "Franklin",
    "Center",
    "Market",
    "Union",
    "Broadway",
    "Grand",
    "River",
    "Spring",
)
SUFFIXES = ("St", "Ave", "Blvd", "Rd", "Dr", "Ln")
SAINTS = (
    "St. Mark's",
    "St. Paul's",
    "St. John's",
    "St. Mary's",
    "Grace",
    "Trinity",
    "First Methodist",
    "Holy Family",
    "Good Shepherd",
    "Emmanuel",
    "Bethel",
    "Christ",
    "Redeemer",
    "Hope",
)
VENUES = (
    "{saint} Church",
    "{saint} Church Fellowship Hall",
    "{city} Community Center",
    "{city} Public Library",
    "Alano Club of {city}",
    "{city} YMCA",
    "{city} Senior Center",
    "{saint} Parish Hall",
)
PHRASES = (
    "Keep It Simple",
    "Primary Purpose",
    "Came to Believe",
    "Happy Destiny",
    "Back to Basics",
    "Easy Does It",
    "Into Action",
    "Just for Today",
    "Miracles Happen",
    "Freedom Group",
    "New Beginnings",
    "Sunrise Group",
    "Serenity Seekers",
    "Lifeline",
    "Courage to Change",
    "One Day at a Time",
)
# Meeting format noun -> Meeting Guide type code it implies.
FORMATS = (
    ("Serenity Group", "D"),
    ("Big Book Study", "B"),
    ("Step Study", "ST"),
    ("Discussion", "D"),
    ("Speaker Meeting", "SP"),
    ("Men's Group", "M"),
    ("Women's Group", "W"),
    ("Newcomers Meeting", "BE"),
    ("Candlelight", "CAN"),
    ("Literature Study", "LIT"),
    ("Meditation", "MED"),
    ("Young People", "Y"),
)
EXTRA_TYPES = (("X", 0.25), ("LGBTQ", 0.04), ("XT", 0.05), ("BA", 0.02), ("DD", 0.02), ("SEN", 0.02), ("POC", 0.02))
FELLOWSHIP_WEIGHTS = (
    ("aa", 45),
    ("na", 20),
    ("al-anon", 8),
    ("smart", 6),
    ("ca", 3),
    ("cma", 2),
    ("ga", 3),
    ("oa", 3),
    ("recovery-dharma", 2),
    ("celebrate-recovery", 3),
    ("peer-led", 2),
    ("mental-health-peer", 2),
    ("grief", 2),
    ("alateen", 1),
)
TWELVE_STEP = frozenset({"aa", "na", "al-anon", "alateen", "ca", "cma", "ga", "oa", "celebrate-recovery"})
START_TIMES = (
    "06:30",
    "07:00",
    "07:30",
    "10:00",
    "12:00",
    "12:05",
    "17:30",
    "18:00",
    "18:30",
    "19:00",
    "19:00",
    "19:30",
    "19:30",
    "20:00",
    "20:00",
    "21:00",
    "22:00",
    "23:00",
)
ACCESSIBILITY = (
    ("wheelchair", 0.6),
    ("accessible_restroom", 0.35),
    ("accessible_parking", 0.3),
    ("elevator", 0.1),
    ("hearing_loop", 0.05),
    ("asl", 0.03),
)


@lru_cache(maxsize=1)
def zip_pool() -> tuple[dict[str, Any], ...]:
    """Active, standard US ZIP codes that have a centre point and a known time zone, in ZIP order."""
    usable = [
        z
        for z in zipcodes.list_all()
        if z["zip_code_type"] == "STANDARD"
        and z["active"]
        and z["country"] == "US"
        and z["lat"]
        and float(z["lat"]) != 0
        and z["timezone"]
        and is_timezone(z["timezone"])
    ]
    return tuple(sorted(usable, key=lambda z: z["zip_code"]))


@dataclass(slots=True)
class Site:
    rng: random.Random
    seed: int
    index: int
    zip: dict[str, Any]
    today: date

    @property
    def key(self) -> str:
        return f"gen:{self.seed}:{self.index}"

    @property
    def city(self) -> str:
        return str(self.zip["city"])

    @property
    def timezone(self) -> str:
        return str(self.zip["timezone"])

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def pick(self, options: Sequence[Any]) -> Any:
        return options[self.rng.randrange(len(options))]

    def phone(self) -> str:
        area = self.zip["area_codes"][0] if self.zip["area_codes"] else "555"
        return f"({area}) 555-01{self.rng.randrange(100):02d}"

    def organization(self, name: str, description: str = "") -> dict[str, Any]:
        domain = f"{slugify(name)[:40]}-{self.seed}-{self.index}.example.org"
        return {"key": self.key, "name": name, "description": description, "website": f"https://{domain}"}


def generate(size: int, seed: int = 42, *, today: date | None = None) -> Iterator[ListingIn]:
    """Yield `size` listings; the same (size, seed, today) always gives the same listings."""
    if size < 0:
        raise ValueError("size must be zero or more")
    rng = random.Random(seed)
    pool = zip_pool()
    day = today or utcnow().date()
    produced, index = 0, 0
    while produced < size:
        site = Site(rng, seed, index, pool[rng.randrange(len(pool))], day)
        builder = _pick_weighted(rng, SITE_KINDS)
        for data in builder(site):
            if produced >= size:
                return
            yield ListingIn.model_validate(data)
            produced += 1
        index += 1


def _pick_weighted(rng: random.Random, weighted: Sequence[tuple[Any, float]]) -> Any:
    total = sum(w for _, w in weighted)
    point = rng.random() * total
    for value, weight in weighted:
        point -= weight
        if point < 0:
            return value
    return weighted[-1][0]


def _location(site: Site, name: str, confidential: bool = False) -> dict[str, Any]:
    rng = site.rng
    lat = float(site.zip["lat"]) + rng.uniform(-0.012, 0.012)
    lng = float(site.zip["long"]) + rng.uniform(-0.012, 0.012)
    street = f"{rng.randint(100, 9899)} {site.pick(STREETS)} {site.pick(SUFFIXES)}"
    address = {"city": site.city, "state_province": site.zip["state"], "postal_code": site.zip["zip_code"]}
    loc: dict[str, Any] = {
        "key": f"{site.key}:loc",
        "name": name,
        "timezone": site.timezone,
        "accessibility": [c for c, p in ACCESSIBILITY if site.chance(p)],
    }
    if confidential:
        loc["confidential_address"] = {"address_1": street, "latitude": round(lat, 6), "longitude": round(lng, 6)}
    else:
        address["address_1"] = street
        loc.update(latitude=round(lat, 6), longitude=round(lng, 6))
    loc["address"] = address
    return loc


def _listing(site: Site, j: int, org: dict[str, Any], locations: list[dict[str, Any]], **fields: Any) -> dict[str, Any]:
    """Common fields of every generated listing; `fields` supplies or overrides the rest."""
    rng = site.rng
    data: dict[str, Any] = {
        "key": f"{site.key}:{j}",
        "organization": org,
        "locations": locations,
        "timezone": site.timezone,
        "assured_date": site.today - timedelta(days=rng.randint(0, 420)) if site.chance(0.85) else None,
        "languages": ["en", "es"] if site.chance(0.15) else ["en"],
    }
    roll = rng.random()
    if roll < 0.02:
        data.update(status="temporarily closed", reopening_date=site.today + timedelta(days=rng.randint(7, 60)))
    elif roll < 0.025:
        data["status"] = "inactive"
    data.update(fields)
    return data


def _schedule(site: Site, days: list[str], start: str, minutes: int) -> dict[str, Any]:
    opens = time.fromisoformat(start)
    total = (opens.hour * 60 + opens.minute + minutes) % (24 * 60)
    return {"byday": days, "opens_at": start, "closes_at": f"{total // 60:02d}:{total % 60:02d}"}


def _meeting_days(site: Site) -> list[str]:
    roll = site.rng.random()
    if roll < 0.75:
        return [site.pick(DAYS)]
    if roll < 0.85:
        return sorted(site.rng.sample(DAYS, 2), key=DAYS.index)
    return list(DAYS[:5]) if roll < 0.95 else list(DAYS)


def _meeting(site: Site, j: int, org: dict[str, Any], location: dict[str, Any] | None) -> dict[str, Any]:
    rng = site.rng
    fellowship = _pick_weighted(rng, FELLOWSHIP_WEIGHTS)
    days, start = _meeting_days(site), site.pick(START_TIMES)
    noun, noun_type = site.pick(FORMATS)
    spanish = site.chance(0.08)
    part = "Morning" if start < "12:00" else "Noon" if start < "13:00" else "Evening" if start < "19:00" else "Night"
    name = f"{DAY_NAMES[days[0]]} {part} {noun}" if len(days) == 1 and site.chance(0.5) else site.pick(PHRASES)
    if spanish:
        name = f"Grupo {site.pick(('Esperanza', 'Nueva Vida', 'Serenidad', 'Unidad', 'Amistad'))}"
    types = ["C" if site.chance(0.3) else "O", noun_type]
    if fellowship in TWELVE_STEP:
        types += [code for code, p in EXTRA_TYPES if site.chance(p)] + (["S"] if spanish else [])
    mode = "in_person" if location else "online"
    if location and site.chance(0.12):
        mode = "hybrid"
    meeting: dict[str, Any] = {
        "fellowship": fellowship,
        "types": types,
        "attendance_mode": mode,
        "slug": f"{slugify(name)}-{site.seed}-{site.index}-{j}",
    }
    if mode != "in_person":
        meeting["conference_url"] = f"https://meet.example.org/j/{rng.randrange(10**9, 10**10)}"
    schedule = _schedule(site, days, start, 90 if site.chance(0.3) else 60)
    area = None if location else f"{site.city}, {site.zip['state']}"  # where an online group comes from
    return _listing(
        site,
        j,
        org,
        [location] if location else [],
        kind="meeting",
        name=name,
        meeting=meeting,
        schedules=[schedule],
        categories=[FELLOWSHIPS[fellowship].category],
        languages=["es"] if spanish else ["en"],
        service_area=area,
    )


def _meeting_venue(site: Site) -> Iterator[dict[str, Any]]:
    name = site.pick(VENUES).format(saint=site.pick(SAINTS), city=site.city)
    org = site.organization(name, "Hosts recovery meetings.")
    location = _location(site, name)
    for j in range(site.rng.choice((1, 1, 2, 2, 3, 4))):
        yield _meeting(site, j, org, location)


def _online_group(site: Site) -> Iterator[dict[str, Any]]:
    org = site.organization(f"{site.pick(PHRASES)} Online Group", "Meets online only.")
    for j in range(site.rng.choice((1, 1, 2))):
        yield _meeting(site, j, org, None)


def _hours(opens: str, closes: str, days: Sequence[str]) -> list[dict[str, Any]]:
    return [{"byday": list(days), "opens_at": opens, "closes_at": closes}]


def _capacity(site: Site) -> dict[str, Any]:
    roll = site.rng.random()
    if roll < 0.8:
        return {}
    state = "waitlist" if roll < 0.95 else "full"
    return {"capacity": state, "capacity_note": "Call for current availability."}


def _costs(site: Site, *kinds: str) -> list[dict[str, Any]]:
    return [{"kind": k} for k in kinds if k == kinds[0] or site.chance(0.6)]


def _service_site(
    site: Site,
    org_name: str,
    offers: Sequence[tuple[str, str, str]],
    hours: Callable[[Site], list[dict[str, Any]]],
    costs: Sequence[str],
    confidential: bool = False,
) -> Iterator[dict[str, Any]]:
    """A site with one location and one or more (category, service name, description) offers."""
    org = site.organization(org_name)
    location = _location(site, org_name, confidential)
    count = site.rng.randint(1, len(offers))
    for j, (category, name, description) in enumerate(site.rng.sample(list(offers), count)):
        yield _listing(
            site,
            j,
            org,
            [location],
            name=name,
            description=description,
            categories=[category],
            schedules=hours(site),
            cost_options=_costs(site, *costs),
            phones=[{"number": site.phone()}],
            **_capacity(site),
        )


def _weekday_hours(site: Site) -> list[dict[str, Any]]:
    return _hours(site.pick(("08:00", "08:30", "09:00")), site.pick(("16:30", "17:00", "18:00")), DAYS[:5])


def _pantry_hours(site: Site) -> list[dict[str, Any]]:
    days = sorted(site.rng.sample(DAYS[:6], site.rng.randint(1, 3)), key=DAYS.index)
    start = site.pick(("09:00", "10:00", "13:00", "16:00"))
    end = {"09:00": "12:00", "10:00": "14:00", "13:00": "16:00", "16:00": "19:00"}[start]
    return _hours(start, end, days)


def _food(site: Site) -> Iterator[dict[str, Any]]:
    offers = (
        ("food-pantry", "Food pantry", "Groceries to take home, once a week."),
        ("food-bank", "Emergency food boxes", "Boxes of staples and produce for households."),
        ("free-meals", "Community meal", "Free hot meal, everyone welcome."),
    )
    name = site.pick(
        ("{city} Community Food Pantry", "{saint} Food Pantry", "{city} Area Food Bank", "{city} Community Kitchen")
    ).format(city=site.city, saint=site.pick(SAINTS))
    return _service_site(site, name, offers, _pantry_hours, ("free",))


def _transport(site: Site) -> Iterator[dict[str, Any]]:
    offers = (
        ("rides-to-treatment", "Rides to treatment", "Rides to treatment, MAT clinics and meetings."),
        ("medical-transport", "Medical transportation", "Rides to medical appointments for Medicaid members."),
        ("transit-passes", "Transit passes", "Free bus passes for people in treatment."),
    )
    return _service_site(site, f"{site.city} Recovery Rides", offers, _weekday_hours, ("free", "medicaid"))


def _treatment(site: Site) -> Iterator[dict[str, Any]]:
    offers = (
        ("outpatient", "Outpatient counseling", "Individual and group counseling."),
        ("intensive-outpatient", "Intensive outpatient program", "Three hours a day, several days a week."),
        ("buprenorphine", "Buprenorphine treatment", "Office-based buprenorphine (Suboxone) treatment."),
        ("methadone", "Methadone treatment", "Opioid treatment program with daily dosing."),
        ("naltrexone", "Naltrexone treatment", "Monthly naltrexone injections."),
        ("residential", "Residential treatment", "Live-in treatment, 28 to 90 days."),
        ("withdrawal-management", "Withdrawal management", "Medically monitored detox."),
    )
    name = (
        f"{site.pick(('New Horizons', 'Pathways', 'Clear Path', 'Turning Point', 'Bridgeway', 'Harbor'))} "
        f"{site.pick(('Treatment Center', 'Recovery Clinic', 'Behavioral Health'))} of {site.city}"
    )
    return _service_site(site, name, offers, _weekday_hours, ("insurance", "medicaid", "sliding_scale", "medicare"))


def _housing(site: Site) -> Iterator[dict[str, Any]]:
    if site.chance(0.2):
        shelter = [("emergency-shelter", "Confidential domestic violence shelter", "Safe shelter; call for intake.")]
        return _service_site(site, f"{site.city} Safe House", shelter, _weekday_hours, ("free",), confidential=True)
    offers = (
        ("sober-living", "Sober living residence", "Alcohol- and drug-free shared housing."),
        ("emergency-shelter", "Emergency shelter", "Overnight shelter beds."),
    )
    return _service_site(
        site,
        f"{site.pick(('Serenity', 'Fresh Start', 'Oxford', 'Hope'))} House {site.city}",
        offers,
        _weekday_hours,
        ("self_pay", "free"),
    )


def _mental_health(site: Site) -> Iterator[dict[str, Any]]:
    offers = (
        ("mental-health-counseling", "Counseling", "Therapy with licensed counselors."),
        ("crisis-services", "Walk-in crisis center", "Crisis support without an appointment; call 988 any time."),
    )
    return _service_site(
        site, f"{site.city} Counseling Center", offers, _weekday_hours, ("sliding_scale", "medicaid", "insurance")
    )


def _community(site: Site) -> Iterator[dict[str, Any]]:
    offers = (
        ("clothing", "Clothing closet", "Free clothing and coats."),
        ("harm-reduction", "Naloxone and syringe services", "Naloxone, test strips and clean supplies."),
        ("peer-run-organizations", "Recovery community center", "Peer-run drop-in center."),
        ("peer-coaching", "Peer recovery coaching", "One-on-one support from a peer recovery coach."),
    )
    return _service_site(site, f"{site.city} Recovery Community Center", offers, _weekday_hours, ("free",))


def _online_community(site: Site) -> Iterator[dict[str, Any]]:
    org = site.organization(f"{site.pick(PHRASES)} Online Recovery Community")
    yield _listing(
        site,
        0,
        org,
        [],
        name="Online peer support community",
        categories=["online-communities"],
        description="Moderated forums and chat rooms.",
        cost_options=[{"kind": "free"}],
    )


SITE_KINDS: tuple[tuple[Callable[[Site], Iterator[dict[str, Any]]], float], ...] = (
    (_meeting_venue, 49),
    (_online_group, 14),
    (_food, 13),
    (_transport, 5),
    (_treatment, 9),
    (_housing, 5),
    (_mental_health, 5),
    (_community, 6),
    (_online_community, 0.5),
)
