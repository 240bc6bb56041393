"""Older HSDS (1.1 and 2.0 CSV data packages) upgraded to the 3.0 tables our importer reads.

Most live directories (211s, Ohana deployments) still publish HSDS 1.x/2.0: `regular_schedules.csv`,
`physical_addresses.csv` and `postal_addresses.csv`, `services_at_location.csv`, `accessibility_for_
disabilities.csv`, an `organizations.csv` with `url` rather than `website`, and ids that are not UUIDs.
`detect_version` names the version of a folder; `upgrade` writes the same data as 3.0 CSV files into
another folder, so the one importer checks and writes it. Ids that are not UUIDs become deterministic
UUIDs per source (the same package imported twice updates, never duplicates); an organization's or a
place's original id is kept as its identifier. What 3.0 has no place for is named in a warning, never
dropped silently.
"""

import csv
import json
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from directory.hsds.report import Problem
from directory.hsds.spec import BY_NAME
from directory.listings.codes import LANGUAGE_NAMES

Row = dict[str, str]
OLDER_FILES = frozenset({
    "physical_addresses.csv", "postal_addresses.csv", "regular_schedules.csv", "holiday_schedules.csv",
    "services_at_location.csv", "services_taxonomy.csv", "accessibility_for_disabilities.csv",
    "payments_accepted.csv", "eligibility.csv", "taxonomy.csv",
})  # fmt: skip
V2_FILES = frozenset({"attributes.csv", "service_attributes.csv", "location_attributes.csv", "meta_table_description"})
UPGRADE_NAMESPACE = uuid.UUID("6a1f0c1e-2b7d-5c3a-9e84-1d2f3a4b5c6d")
_WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")  # HSDS 1.x weekday 1 = Monday
_DAY_NAMES = {name: code for code, name in zip(_WEEKDAYS, ("monday", "tuesday", "wednesday", "thursday",
                                                           "friday", "saturday", "sunday"), strict=True)}  # fmt: skip
_LANGUAGE_CODES = {name.lower(): code for code, name in LANGUAGE_NAMES.items()}
_CURRENT_FILES = frozenset({spec.path for spec in BY_NAME.values()} | {f"{name}.csv" for name in BY_NAME})
_REFERENCES = {
    "organization_id": "organization", "service_id": "service", "location_id": "location", "program_id": "program",
    "contact_id": "contact", "service_at_location_id": "service_at_location", "taxonomy_id": "taxonomy_term",
    "parent_organization_id": "organization",
}  # fmt: skip
_IGNORED = {"metadata.csv": "change history is not stored", "meta_table_descriptions.csv": "table notes are not stored"}


def detect_version(folder: Path) -> str | None:
    """ "1.1" or "2.0" for an older CSV package, "3.0" for one in today's layout, None for no CSV at all."""
    names = {p.name for p in folder.iterdir() if p.is_file()}
    if not any(name.endswith(".csv") for name in names):
        return None
    older = names & OLDER_FILES or "url" in _header(folder / "organizations.csv")
    older = older or ("locations.csv" in names and "location_type" not in _header(folder / "locations.csv"))
    if not older:
        return "3.0" if names & _CURRENT_FILES else None
    return "2.0" if names & V2_FILES else "1.1"


def not_hsds(path: Path) -> str | None:
    """One sentence for a file that is some other format altogether (instead of an error per row)."""
    if path.suffix.lower() != ".json" or not path.is_file() or path.stat().st_size > 50 * 1024 * 1024:
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (ValueError, UnicodeDecodeError):
        return None
    first = data[0] if isinstance(data, list) and data and isinstance(data[0], dict) else {}
    if "slug" in first and ({"day", "time", "formatted_address", "conference_url"} & set(first)):
        return ("this is a Meeting Guide feed, not HSDS: import it with `import-meeting-guide` "
                "or register it with `feeds add`")  # fmt: skip
    return None


def _header(path: Path) -> list[str]:
    if not path.is_file():
        return []
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return next(csv.reader(handle), [])


def _read(folder: Path, name: str) -> list[Row]:
    path = folder / name
    if not path.is_file():
        return []
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return [{k: (v or "").strip() for k, v in row.items() if k} for row in csv.DictReader(handle)]


@dataclass
class Upgrade:
    version: str
    source: str
    tables: dict[str, list[Row]] = field(default_factory=lambda: defaultdict(list))
    notes: list[Problem] = field(default_factory=list)
    renamed: dict[str, int] = field(default_factory=lambda: defaultdict(int))  # kind -> ids made UUIDs

    def id(self, kind: str, value: str) -> str:
        """A UUID for an id of this kind: the id itself when it is one, else one derived from it."""
        if not value:
            return ""
        try:
            if len(value) == 36:
                return str(uuid.UUID(value))
        except ValueError:
            pass
        self.renamed[kind] += 1
        return str(uuid.uuid5(UPGRADE_NAMESPACE, f"{self.source}:{kind}:{value}"))

    def note(self, file: str, message: str, row: int | None = None) -> None:
        self.notes.append(Problem(file, row, None, message, "warning"))


def upgrade(folder: Path, out: Path, *, version: str, source: str | None = None) -> Upgrade:
    """Write `folder` (an HSDS 1.1/2.0 package) as 3.0 CSV files into `out`; returns what was done."""
    result = Upgrade(version=version, source=source or folder.name)
    for step in _STEPS:
        step(folder, result)
    for name, reason in _IGNORED.items():
        if len(_read(folder, name)):
            result.note(name, f"ignored: {reason}")
    for kind, count in sorted(result.renamed.items()):
        result.note(kind, f"{count} {kind} ids were not UUIDs; each got a UUID derived from it and the source")
    out.mkdir(parents=True, exist_ok=True)
    for name, rows in result.tables.items():
        _write(out / name, rows)
    return result


def _write(path: Path, rows: list[Row]) -> None:
    columns = list(dict.fromkeys(k for row in rows for k in row))
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)


def _refs(up: Upgrade, row: Row, columns: Iterable[str]) -> Row:
    return {c: up.id(_REFERENCES[c], row.get(c, "")) for c in columns}


# --- one step per 3.0 table -----------------------------------------------------------------------------


def _organizations(folder: Path, up: Upgrade) -> None:
    for row in _read(folder, "organizations.csv"):
        new_id = up.id("organization", row["id"])
        up.tables["organizations.csv"].append({
            "id": new_id, "name": row.get("name", ""), "alternate_name": row.get("alternate_name", ""),
            "description": row.get("description") or row.get("name", ""), "email": row.get("email", ""),
            "website": row.get("website") or row.get("url", ""), "tax_status": row.get("tax_status", ""),
            "tax_id": row.get("tax_id", ""), "year_incorporated": row.get("year_incorporated", ""),
            "legal_status": row.get("legal_status", ""), "logo": row.get("logo", ""), "uri": row.get("uri", ""),
            **_refs(up, row, ["parent_organization_id"] if row.get("parent_organization_id") else []),
        })  # fmt: skip
        if new_id != row["id"]:
            up.tables["organization_identifiers.csv"].append({
                "id": str(uuid.uuid5(uuid.UUID(new_id), "original-id")), "organization_id": new_id,
                "identifier_scheme": up.source, "identifier_type": f"HSDS {up.version} id", "identifier": row["id"],
            })  # fmt: skip


def _programs(folder: Path, up: Upgrade) -> None:
    for row in _read(folder, "programs.csv"):
        up.tables["programs.csv"].append({
            "id": up.id("program", row["id"]), **_refs(up, row, ["organization_id"]), "name": row.get("name", ""),
            "alternate_name": row.get("alternate_name", ""),
            "description": row.get("description") or row.get("name", ""),
        })  # fmt: skip


def _services(folder: Path, up: Upgrade) -> None:
    eligibility = _by_service(up, _read(folder, "eligibility.csv"), "eligibility")
    payments = _by_service(up, _read(folder, "payments_accepted.csv"), "payment")
    keep = ("name", "alternate_name", "description", "url", "email", "interpretation_services",
            "application_process", "wait_time", "fees", "accreditations", "licenses")  # fmt: skip
    for row in _read(folder, "services.csv"):
        sid = up.id("service", row["id"])
        fees = "; ".join(p for p in (row.get("fees", ""), _joined("Payments accepted", payments.get(sid))) if p)
        up.tables["services.csv"].append({
            "id": sid, **_refs(up, row, ["organization_id", "program_id"]), **{k: row.get(k, "") for k in keep},
            "fees_description": fees, "status": row.get("status") or "active",
            "eligibility_description": "; ".join(eligibility.get(sid, [])),
        })  # fmt: skip
        for term in filter(None, (t.strip() for t in row.get("taxonomy_ids", "").split(","))):
            _attribute(up, sid, up.id("taxonomy_term", term))


def _by_service(up: Upgrade, rows: list[Row], column: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        if row.get(column):
            found[up.id("service", row.get("service_id", ""))].append(row[column])
    return found


def _joined(label: str, values: list[str] | None) -> str:
    return f"{label}: {', '.join(values)}" if values else ""


def _attribute(up: Upgrade, service_id: str, term_id: str) -> None:
    up.tables["attributes.csv"].append({
        "id": str(uuid.uuid5(UPGRADE_NAMESPACE, f"{service_id}:{term_id}")), "link_id": service_id,
        "taxonomy_term_id": term_id, "link_type": "taxonomy", "link_entity": "service",
    })  # fmt: skip


def _locations(folder: Path, up: Upgrade) -> None:
    keep = ("name", "alternate_name", "description", "transportation", "latitude", "longitude")
    for row in _read(folder, "locations.csv"):
        new_id = up.id("location", row["id"])
        original = {"external_identifier": row["id"], "external_identifier_type": f"HSDS {up.version} id"}
        up.tables["locations.csv"].append({
            "id": new_id, "location_type": row.get("location_type") or "physical", "url": row.get("url", ""),
            **_refs(up, row, ["organization_id"]), **{k: row.get(k, "") for k in keep},
            **(original if new_id != row["id"] else {"external_identifier": "", "external_identifier_type": ""}),
        })  # fmt: skip


def _addresses(folder: Path, up: Upgrade) -> None:
    for name, kind in (("physical_addresses.csv", "physical"), ("postal_addresses.csv", "postal")):
        for row in _read(folder, name):
            rest = ", ".join(row.get(k, "") for k in ("address_2", "address_3", "address_4") if row.get(k))
            up.tables["addresses.csv"].append({
                "id": up.id("address", row["id"]), **_refs(up, row, ["location_id"]),
                "attention": row.get("attention", ""), "address_1": row.get("address_1", ""), "address_2": rest,
                "city": row.get("city", ""), "region": row.get("region", ""),
                "state_province": row.get("state_province", ""), "postal_code": row.get("postal_code", ""),
                "country": row.get("country") or "US", "address_type": kind,
            })  # fmt: skip


def _schedules(folder: Path, up: Upgrade) -> None:
    for number, row in enumerate(_read(folder, "regular_schedules.csv"), start=2):
        day = _weekday(row.get("weekday", ""))
        if day is None:
            up.note("regular_schedules.csv", f"weekday {row.get('weekday')!r} is not a day; row left out", number)
            continue
        up.tables["schedules.csv"].append({
            "id": up.id("schedule", row["id"]),
            **_refs(up, row, ["service_id", "location_id", "service_at_location_id"]),
            "freq": "WEEKLY", "interval": "1", "byday": day, "opens_at": row.get("opens_at", "")[:5],
            "closes_at": row.get("closes_at", "")[:5],
        })  # fmt: skip
    holidays = _read(folder, "holiday_schedules.csv")
    if holidays:
        up.note("holiday_schedules.csv", f"{len(holidays)} holiday closures left out: HSDS 3.0 schedules hold "
                "recurring hours only; add them as a note or an alert on the service")  # fmt: skip


def _weekday(value: str) -> str | None:
    text = value.strip().lower()
    if text.isdigit() and 1 <= int(text) <= 7:
        return _WEEKDAYS[int(text) - 1]
    return _DAY_NAMES.get(text)


def _simple(folder: Path, up: Upgrade) -> None:
    """Tables whose columns 3.0 kept (or only renamed)."""
    copies: list[tuple[str, str, str, dict[str, str]]] = [
        ("services_at_location.csv", "service_at_location.csv", "service_at_location", {}),
        ("contacts.csv", "contacts.csv", "contact", {}),
        ("phones.csv", "phones.csv", "phone", {}),
        ("funding.csv", "funding.csv", "funding", {}),
        ("service_areas.csv", "service_areas.csv", "service_area", {"service_area": "name"}),
        ("required_documents.csv", "required_documents.csv", "required_document", {}),
        ("accessibility_for_disabilities.csv", "accessibility.csv", "accessibility", {"accessibility": "description"}),
    ]
    for source, target, kind, renames in copies:
        for row in _read(folder, source):
            out = {renames.get(k, k): v for k, v in row.items() if k not in ("language", "department")}
            out = {**out, "id": up.id(kind, row["id"]), **_refs(up, row, [c for c in row if c in _REFERENCES])}
            up.tables[target].append(out)


def _languages(folder: Path, up: Upgrade) -> None:
    for row in _read(folder, "languages.csv"):
        name = row.get("language") or row.get("name", "")
        up.tables["languages.csv"].append({
            "id": up.id("language", row["id"]), **_refs(up, row, ["service_id", "location_id"]), "name": name,
            "code": _LANGUAGE_CODES.get(name.lower(), row.get("code", "")),
        })  # fmt: skip


def _taxonomy(folder: Path, up: Upgrade) -> None:
    rows = _read(folder, "taxonomy.csv")
    known = {row["id"] for row in rows}
    for row in rows:
        parent = row.get("parent_id", "")
        if parent and parent not in known:
            up.note("taxonomy.csv", f"parent {row.get('parent_name') or parent!r} of {row['name']!r} is not in the "
                    "package; the term is kept without it")  # fmt: skip
        up.tables["taxonomy_terms.csv"].append({
            "id": up.id("taxonomy_term", row["id"]), "name": row.get("name", ""),
            "description": row.get("description") or row.get("name", ""),
            "parent_id": up.id("taxonomy_term", parent) if parent in known else "",
            "taxonomy": row.get("vocabulary", ""),
        })  # fmt: skip
    for row in _read(folder, "services_taxonomy.csv"):
        _attribute(up, up.id("service", row.get("service_id", "")), up.id("taxonomy_term", row.get("taxonomy_id", "")))


_STEPS: tuple[Callable[[Path, Upgrade], None], ...] = (
    _organizations,
    _programs,
    _services,
    _locations,
    _addresses,
    _schedules,
    _simple,
    _languages,
    _taxonomy,
)
