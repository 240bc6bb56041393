"""Reading what an import is given: CSV files of a data package, JSON bodies, NDJSON dumps, zip files.

Everything becomes `SourceRow`s: one row of one resource with the fields it states. CSV rows state every
column of their header (an empty cell is a null); a JSON body states only the keys it has, and its nesting
supplies the ids that link rows (a phone inside a service gets that service's id).
"""

import csv
import json
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from directory.hsds.report import Problem
from directory.hsds.spec import BY_NAME, BY_PATH, UNSTORED_PATHS, nests

JSON_SUFFIXES = (".json", ".ndjson", ".jsonl")
_KIND_PREFIXES = (
    ("service_at_location", "service_at_location"), ("services", "service"), ("service", "service"),
    ("organization", "organization"), ("taxonomy_term", "taxonomy_term"), ("taxonomies", "taxonomy"),
    ("taxonomy", "taxonomy"), ("location", "location"),
)  # fmt: skip


@dataclass(slots=True)
class SourceRow:
    resource: str
    file: str
    row: int | None
    pointer: str  # JSON pointer of the object within its body ("" for CSV)
    values: dict[str, Any]
    tabular: bool  # a CSV (or tabular JSON) row: its id must be unique in its file


@dataclass
class Inputs:
    csv: dict[str, list[Path]] = field(default_factory=dict)  # resource -> files
    json: list[Path] = field(default_factory=list)
    notes: list[Problem] = field(default_factory=list)


def discover(paths: Iterable[Path], unpack_dir: Path) -> Inputs:
    """Sort the given files and folders (and zip files, unpacked into `unpack_dir`) into CSV and JSON."""
    found = Inputs()
    for path in paths:
        if path.is_dir():
            names = _package_paths(path)
            for child in sorted(path.iterdir()):
                if child.is_file():
                    _add_file(found, child, names)
        elif path.suffix.lower() == ".zip":
            target = unpack_dir / path.stem
            with zipfile.ZipFile(path) as archive:
                archive.extractall(target)  # zipfile drops ".." and absolute parts of member names
            found_inner = discover([p for p in target.rglob("*") if p.is_file()], unpack_dir)
            for name, files in found_inner.csv.items():
                found.csv.setdefault(name, []).extend(files)
            found.json.extend(found_inner.json)
            found.notes.extend(found_inner.notes)
        elif path.is_file():
            _add_file(found, path, {})
        else:
            found.notes.append(Problem(str(path), None, None, "no such file or folder"))
    return found


def _package_paths(folder: Path) -> dict[str, str]:
    """File name -> resource name from a folder's own datapackage.json, when it has one."""
    descriptor = folder / "datapackage.json"
    if not descriptor.is_file():
        return {}
    try:
        package = json.loads(descriptor.read_text(encoding="utf-8"))
        return {r["path"]: r["name"] for r in package.get("resources", []) if r.get("name") in BY_NAME}
    except (ValueError, TypeError, KeyError, AttributeError):
        return {}


def _add_file(found: Inputs, path: Path, names: dict[str, str]) -> None:
    suffix = path.suffix.lower()
    if path.name == "datapackage.json":
        return
    if suffix == ".csv":
        resource = names.get(path.name) or _resource_for_csv(path.name)
        if resource is None and path.name in UNSTORED_PATHS:
            if count_lines(path) > 1:  # our own exports carry these as header-only files
                found.notes.append(Problem(path.name, None, None, "ignored: change history is not stored", "warning"))
        elif resource is None:
            found.notes.append(Problem(path.name, None, None, "ignored: not an HSDS resource", "warning"))
        else:
            found.csv.setdefault(resource, []).append(path)
    elif suffix in JSON_SUFFIXES:
        found.json.append(path)
    else:
        found.notes.append(Problem(path.name, None, None, "ignored: neither CSV nor JSON", "warning"))


def _resource_for_csv(name: str) -> str | None:
    if name in BY_PATH:
        return BY_PATH[name].name
    stem = name.rsplit(".", 1)[0]
    return stem if stem in BY_NAME else None


# --- CSV -----------------------------------------------------------------------------------------------


def csv_header_problems(resource: str, path: Path) -> tuple[list[str], list[Problem]]:
    """The header's known columns, and problems: missing required columns (errors), unknown (warnings)."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        header = next(csv.reader(handle), [])
    spec = BY_NAME[resource]
    problems = [
        Problem(path.name, 1, name, "unknown column, ignored", "warning") for name in header if name not in spec.by_name
    ]
    problems += [
        Problem(path.name, 1, f.name, "required column is missing")
        for f in spec.fields
        if f.required and f.name not in header
    ]
    if len(set(header)) != len(header):
        problems.append(Problem(path.name, 1, None, "a column name appears twice"))
    return [h for h in header if h in spec.by_name], problems


def csv_rows(resource: str, path: Path) -> Iterator[SourceRow]:
    spec = BY_NAME[resource]
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        header = next(reader, [])
        columns = [(i, name) for i, name in enumerate(header) if name in spec.by_name]
        for number, record in enumerate(reader, start=2):
            if not any(cell.strip() for cell in record):
                continue
            values = {name: record[i] if i < len(record) else "" for i, name in columns}
            yield SourceRow(resource, path.name, number, "", values, True)


def count_lines(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))


# --- JSON ----------------------------------------------------------------------------------------------


@dataclass(slots=True)
class JsonItem:
    file: str
    row: int
    kind: str  # resource of a body, or "tabular" for {"organizations.csv": [...], ...}
    body: Any


def json_items(path: Path) -> Iterator[JsonItem | Problem]:
    """Bodies of a .json file (an object, an array, an HSDS Page, or tabular JSON) or an NDJSON file."""
    if path.suffix.lower() in (".ndjson", ".jsonl"):
        with path.open(encoding="utf-8-sig") as handle:
            for number, line in enumerate(handle, start=1):
                if line.strip():
                    yield from _parsed(path, number, line)
        return
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except ValueError as exc:
        yield Problem(path.name, None, None, f"not valid JSON: {exc}")
        return
    if isinstance(data, dict) and isinstance(data.get("contents"), list):
        data = data["contents"]
    if isinstance(data, dict) and data and all(str(k).endswith(".csv") for k in data):
        yield JsonItem(path.name, 1, "tabular", data)
        return
    for number, body in enumerate(data if isinstance(data, list) else [data], start=1):
        yield _item(path, number, body)


def _parsed(path: Path, number: int, line: str) -> Iterator[JsonItem | Problem]:
    try:
        body = json.loads(line)
    except ValueError as exc:
        yield Problem(path.name, number, None, f"not valid JSON: {exc}")
        return
    yield _item(path, number, body)


def _item(path: Path, number: int, body: Any) -> JsonItem | Problem:
    if not isinstance(body, dict):
        return Problem(path.name, number, None, "expected a JSON object")
    return JsonItem(path.name, number, body_kind(path.name, body), body)


def body_kind(file_name: str, body: dict[str, Any]) -> str:
    """Which HSDS body this is: from the file's name when it says, else from the body's keys."""
    lowered = file_name.lower()
    for prefix, kind in _KIND_PREFIXES:
        if lowered.startswith(prefix):
            return kind
    if "status" in body:
        return "service"
    if "location" in body or ("service_id" in body and "location_id" in body):
        return "service_at_location"
    if "location_type" in body:
        return "location"
    if "taxonomy_detail" in body or "term_uri" in body or "parent_id" in body:
        return "taxonomy_term"
    return "organization"


def tabular_rows(item: JsonItem) -> Iterator[SourceRow | Problem]:
    for file_name, rows in item.body.items():
        resource = _resource_for_csv(file_name)
        if resource is None or not isinstance(rows, list):
            yield Problem(item.file, None, file_name, "ignored: not an HSDS resource", "warning")
            continue
        spec = BY_NAME[resource]
        for number, row in enumerate(rows, start=1):
            pointer = f"/{file_name}/{number - 1}"
            if not isinstance(row, dict):
                yield Problem(item.file, number, pointer, "expected a JSON object")
                continue
            values = {k: v for k, v in row.items() if k in spec.by_name}
            yield SourceRow(resource, item.file, number, pointer, values, True)


def flatten(item: JsonItem) -> list[SourceRow]:
    """The rows a (schema-valid) body holds, merged by id: one object may appear in several places."""
    merged: dict[tuple[str, str], SourceRow] = {}
    for row in _walk(item.kind, item.body, item, "", {}):
        key = (row.resource, str(row.values.get("id")))
        if key in merged:
            target = merged[key].values
            for name, value in row.values.items():
                if target.get(name) is None:
                    target[name] = value
        else:
            merged[key] = row
    return list(merged.values())


def _walk(
    resource: str, obj: dict[str, Any], item: JsonItem, pointer: str, implied: dict[str, Any]
) -> Iterator[SourceRow]:
    spec = BY_NAME[resource]
    values = {k: v for k, v in obj.items() if k in spec.by_name}
    for name, value in implied.items():
        values.setdefault(name, value)
    children: list[tuple[str, dict[str, Any], str, dict[str, Any]]] = []
    for nest in nests(resource):
        found = obj.get(nest.key)
        for index, child in _nested_objects(found, nest.many):
            path = f"{pointer}/{nest.key}" + (f"/{index}" if nest.many else "")
            if nest.link == "parent":
                values.setdefault(nest.column, child.get("id"))
                children.append((nest.resource, child, path, {}))
            else:
                link = {nest.column: obj.get("id")}
                if nest.resource == "attribute":
                    link["link_entity"] = resource
                children.append((nest.resource, child, path, link))
    yield SourceRow(resource, item.file, item.row, pointer, values, False)
    for child_resource, child, path, link in children:
        if resource == "service" and child_resource == "program":
            link = {"organization_id": values.get("organization_id")}  # a service's program is its organization's
        yield from _walk(child_resource, child, item, path, link)


def _nested_objects(found: Any, many: bool) -> list[tuple[int, dict[str, Any]]]:
    if many:
        return [(i, c) for i, c in enumerate(found or []) if isinstance(c, dict)]
    return [(0, found)] if isinstance(found, dict) else []


def unknown_keys(resource: str, obj: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(resource, key) of properties a body has that HSDS does not define at that place."""
    known = set(BY_NAME[resource].by_name) | {n.key for n in nests(resource)} | {"metadata"}
    for key in obj:
        if key not in known:
            yield resource, key
    for nest in nests(resource):
        for _, child in _nested_objects(obj.get(nest.key), nest.many):
            yield from unknown_keys(nest.resource, child)
