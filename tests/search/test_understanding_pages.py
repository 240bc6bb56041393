"""Understood words on the results page through the ASGI client: chips with plain and htmx links, the
fragment, the time zone they are read in, and a way out when nothing is on at that time."""

from urllib.parse import parse_qs, urlsplit

from fastapi.testclient import TestClient

from tests.html import parse
from tests.search.test_pages import AT, HTMX, result_names
from tests.support import Directory


def chip_links(html: str) -> dict[str, dict[str, list[str]]]:
    """Each chip's visible text -> the query of its link (chips are the links that also set the search box)."""
    found = {}
    for a in parse(html).find_all("a", data_set_q=True):
        text = a.text.replace("\N{MULTIPLICATION SIGN}", "").replace("Remove:", "")
        found[" ".join(text.split())] = parse_qs(urlsplit(a.attrs["href"]).query)
    return found


def test_an_acronym_is_a_fellowship_filter_with_a_removable_chip(client: TestClient, directory: Directory) -> None:
    response = client.get(f"/search?q=NA&near=60601&{AT}")
    assert response.status_code == 200
    assert result_names(response.text) == ["Grupo Esperanza"]
    links = chip_links(response.text)
    assert list(links) == ["Narcotics Anonymous (“NA”)"]
    assert "q" not in links["Narcotics Anonymous (“NA”)"] and links["Narcotics Anonymous (“NA”)"]["near"] == ["60601"]
    anchor = parse(response.text).find("a", data_set_q=True)
    assert anchor.attrs["hx-get"] == anchor.attrs["href"] and anchor.attrs["hx-target"] == "#results"
    assert anchor.attrs["data-set-q"] == ""
    fragment = client.get(f"/search?q=NA&near=60601&{AT}", headers=HTMX)
    assert "<html" not in fragment.text and list(chip_links(fragment.text)) == ["Narcotics Anonymous (“NA”)"]


def test_words_that_are_not_understood_are_searched_as_before(client: TestClient, directory: Directory) -> None:
    response = client.get(f"/search?q=pantry+parish&near=60601&{AT}")
    assert chip_links(response.text) == {"Food (“pantry”)": {"q": ["parish"], "near": ["60601"], "at": [AT[3:]]}}
    assert result_names(response.text) == ["Northside Food Pantry"]
    plain = client.get(f"/search?q=Esperanza&near=60601&{AT}")
    assert chip_links(plain.text) == {} and result_names(plain.text) == ["Grupo Esperanza"]


def test_tonight_is_counted_in_the_place_zone_and_an_empty_evening_offers_any_time(
    client: TestClient, directory: Directory
) -> None:
    # Monday 11:40 in Chicago: the Loop Noon Group meets at noon, not tonight; Grupo Esperanza meets Tuesdays.
    response = client.get(f"/search?q=AA+tonight&near=60601&{AT}")
    assert result_names(response.text) == []
    offered = {" ".join(a.text.split()): a.attrs["href"] for a in parse(response.text).find_all("a")}
    assert parse_qs(urlsplit(offered["Search at any time"]).query)["q"] == ["AA"]
    today = client.get(f"/search?q=AA+today&near=60601&{AT}")
    assert set(result_names(today.text)) == {"Loop Noon Group", "Daily Online Reflection"}  # 12:00 and 13:00 ET
    assert list(chip_links(today.text)) == ["Alcoholics Anonymous (“AA”)", "Today"]
    # Monday 08:00 in Chicago: "this morning" ends at noon where the viewer is. In Denver that is 13:00 in
    # Chicago, after the Loop Noon Group and the online meeting (13:00 in New York) start; in New York it is
    # 11:00 in Chicago, before both.
    eight = "at=2026-06-01T08:00:00-05:00".replace("-05:00", "%2D05:00")
    denver = client.get(f"/search?q=AA+this+morning&near=60601&tz=America/Denver&{eight}")
    new_york = client.get(f"/search?q=AA+this+morning&near=60601&tz=America/New_York&{eight}")
    assert set(result_names(denver.text)) == {"Loop Noon Group", "Daily Online Reflection"}  # noon Chicago time
    assert result_names(new_york.text) == []


def test_spanish_words_and_labels(client: TestClient, directory: Directory) -> None:
    response = client.get(f"/search?q=transporte+hoy&near=60601&lang=es&{AT}")
    assert result_names(response.text) == ["Recovery Rides"]
    assert list(chip_links(response.text)) == ["Quitar: Transporte", "Quitar: Hoy"]
