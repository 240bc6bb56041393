"""Home and results pages through the ASGI client: full pages, htmx fragments, and parity with the JSON API."""

from urllib.parse import parse_qs, urlsplit

from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.html import parse
from tests.support import MONDAY_1140_CHICAGO, Directory

AT = f"at={MONDAY_1140_CHICAGO.replace('+', '%2B')}"
HTMX = {"HX-Request": "true"}


def result_names(html: str) -> list[str]:
    """Names of the listings shown, in page order (each result's heading is a link to it)."""
    return [" ".join(h.text.split()) for h in parse(html).find_all("h3") if h.attrs.get("id") != "online-title"]


def listing_links(html: str) -> list[str]:
    links = [a.attrs["href"].split("?")[0] for a in parse(html).find_all("a")]
    return list(dict.fromkeys(u for u in links if u.startswith("/services/")))


def test_home_has_one_search_form_location_button_and_quick_choices(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert "HX-Request" in response.headers["vary"]
    page = parse(response.text)
    form = page.find("form", role="search")
    assert form.attrs["action"] == "/search" and form.attrs["method"] == "get"
    assert "hx-get" not in form.attrs  # the home form is a plain GET form
    for name in ("q", "near"):
        field = page.find("input", name=name)
        assert page.find("label", for_=field.attrs["id"])
    assert not page.find_all("input", name="lat"), "no location field until the visitor asks for it"
    assert "hidden" in page.find("button", data_locate=True).attrs  # shown by app.js only
    quick = {
        a.text.strip(): parse_qs(urlsplit(a.attrs["href"]).query)
        for a in page.find_all("a")
        if a.attrs.get("href", "").startswith("/search?")
    }
    assert quick["Meetings starting soon"] == {"kind": ["meeting"], "starting_within": ["60"], "sort": ["soonest"]}
    assert quick["Food open now"] == {"category": ["food"], "open_now": ["1"]}
    assert quick["Crisis help"] == {"category": ["crisis-services"]}
    assert {"Rides", "Treatment"} <= set(quick)


def test_quick_choice_links_all_work(client: TestClient, directory: Directory) -> None:
    page = parse(client.get("/").text)
    links = [a.attrs["href"] for a in page.find_all("a") if a.attrs.get("href", "").startswith("/search?")]
    assert len(links) == 5
    for link in links:
        assert client.get(link).status_code == 200, link


def test_search_by_zip_with_a_filter_renders_the_full_page(client: TestClient, directory: Directory) -> None:
    response = client.get(f"/search?near=60601&category=aa&{AT}")
    assert response.status_code == 200
    assert response.headers["vary"].startswith("HX-Request")
    page = parse(response.text)
    assert page.find("html").attrs["lang"] == "en"
    assert page.find("input", name="near").attrs["value"] == "60601"
    assert "checked" in page.find("input", id="f-category-aa").attrs
    assert page.find("input", id="f-category-aa").attrs["form"] == "search-form"
    results = page.find("section", id="results")
    assert results.attrs["aria-live"] == "polite"
    assert page.text_of("h2", id="results-title") == "1 result near 60601"
    names = result_names(response.text)
    assert "Loop Noon Group" in names and "Grupo Esperanza" not in names and "Brooklyn Food Bank" not in names
    # The online AA meeting starts at 13:00 New York = 12:00 Chicago: its own "starting soon" section.
    online = page.text_of("section", class_="online-soon")
    assert "Daily Online Reflection" in online and "Starts in 20 min" in online


def test_results_show_distance_times_and_badges(client: TestClient, directory: Directory) -> None:
    html = client.get(f"/search?near=60601&{AT}").text
    page = parse(html)
    items = {" ".join(li.text.split()) for li in page.find_all("li", class_="result")}
    loop = next(t for t in items if t.startswith("Loop Noon Group"))
    assert "Starts in 20 min" in loop and "Today, 12:00" in loop and "CDT" in loop and " mi" in loop
    assert "Open, Discussion" in loop  # meeting types by label
    rides = next(t for t in items if t.startswith("Recovery Rides"))
    assert "Open now" in rides and "Open until 8:00" in rides and "Takes Medicaid" in rides
    pantry = next(t for t in items if t.startswith("Northside Food Pantry"))
    assert "Waitlist" in pantry and "Not recently verified" in pantry and "English, Spanish" in pantry
    esperanza = next(t for t in items if t.startswith("Grupo Esperanza"))
    assert "Tomorrow, 7:00" in esperanza and "Free" in esperanza
    shelter = next(t for t in items if t.startswith("Safe Haven Shelter"))
    assert "77 Hidden Lane" not in html and "Hidden" not in shelter


def test_facets_show_counts_and_keep_checked_values(client: TestClient, directory: Directory) -> None:
    page = parse(client.get(f"/search?near=60601&language=es&{AT}").text)
    spanish = page.find("input", id="f-language-es")
    assert "checked" in spanish.attrs
    labels = {" ".join(label.text.split()) for label in page.find_all("label") if label.attrs.get("for") is None}
    assert "Spanish (2)" in labels
    assert any(text.startswith("Closed (") for text in labels)  # meeting-type facet
    assert {"Monday (1)", "Tuesday (1)"} <= labels  # day facet over the matching listings
    active = page.find("ul", class_="active-filters")
    assert "Spanish" in " ".join(active.text.split())


def test_fragment_for_htmx_has_results_and_out_of_band_filters(client: TestClient, directory: Directory) -> None:
    response = client.get(f"/search?near=60601&category=food&{AT}", headers=HTMX)
    assert response.status_code == 200
    assert response.headers["vary"].startswith("HX-Request")
    assert "<html" not in response.text and "<form" not in response.text
    page = parse(response.text)
    assert page.find("div", id="filter-groups").attrs["hx-swap-oob"] == "innerHTML"
    assert page.text_of("h2", id="results-title") == "1 result near 60601"
    assert "Northside Food Pantry" in result_names(response.text)


def test_history_restore_gets_the_full_page(client: TestClient, directory: Directory) -> None:
    headers = {**HTMX, "HX-History-Restore-Request": "true"}
    response = client.get("/search?near=60601", headers=headers)
    assert response.status_code == 200 and "<html" in response.text


def test_html_results_match_the_json_api(client: TestClient, directory: Directory) -> None:
    query = f"near=60601&sort=distance&{AT}"
    api = client.get(f"/api/v1/search?{query}").json()
    html = client.get(f"/search?{query}").text
    main_urls = [h["url"] for h in api["hits"]]
    assert len(main_urls) == 5
    assert [u for u in listing_links(html) if u in main_urls] == main_urls
    assert {h["url"] for h in api["online"]} <= set(listing_links(html))
    assert parse(html).text_of("h2", id="results-title").startswith(f"{api['total']} results")


def test_pagination_links_keep_the_search(client: TestClient, directory: Directory) -> None:
    page = parse(client.get("/search?near=60601&per_page=2&lang=es").text)
    nav = page.find("nav", class_="pager")
    assert "Página 1 de 3" in " ".join(nav.text.split())
    following = page.find("a", rel="next")
    query = parse_qs(urlsplit(following.attrs["href"]).query)
    assert query == {"near": ["60601"], "per_page": ["2"], "page": ["2"], "lang": ["es"]}
    assert following.attrs["hx-get"] == following.attrs["href"]
    second = parse(client.get(following.attrs["href"]).text)
    assert second.find("a", rel="prev")


def empty_suggestions(client: TestClient, url: str) -> dict[str, str]:
    page = parse(client.get(url).text)
    assert page.text_of("h2", id="results-title").startswith("0 results")
    return {" ".join(a.text.split()): a.attrs["href"] for a in page.find_all("a") if a.attrs.get("hx-get")}


def test_empty_result_offers_the_nearest_wider_radius_with_results_and_removing_filters(
    client: TestClient, directory: Directory
) -> None:
    # Monday noon: the pantry (10 km from 60601) is open, nothing food within 2 km.
    monday = "at=2026-06-01T12:00:00-05:00"
    suggestions = empty_suggestions(client, f"/search?near=60601&radius_km=2&category=food&open_now=1&{monday}")
    wider = next(text for text in suggestions if text.startswith("Search within"))
    assert wider == "Search within 16 miles: 1 found"
    query = parse_qs(urlsplit(suggestions[wider]).query)
    assert query["radius_km"] == ["25"] and query["category"] == ["food"] and query["open_now"] == ["1"]
    assert "Northside Food Pantry" in result_names(client.get(suggestions[wider]).text)
    # Saturday noon: no food place is open within 250 km (Brooklyn is): no wider area is offered in vain.
    saturday = "at=2026-06-06T12:00:00-05:00"
    suggestions = empty_suggestions(client, f"/search?near=60601&radius_km=2&category=food&open_now=1&{saturday}")
    assert not [text for text in suggestions if text.startswith("Search within")]
    assert "open_now" not in parse_qs(urlsplit(suggestions["Search at any time"]).query)
    assert "category" not in parse_qs(urlsplit(suggestions["Remove all filters"]).query)


def test_empty_form_fields_from_a_plain_submit_are_ignored(client: TestClient, directory: Directory) -> None:
    url = "/search?q=&near=60601&sort=&radius_km=25&kind=&attendance=&starting_within=&time_from=&time_to="
    response = client.get(url)
    assert response.status_code == 200
    assert parse(response.text).text_of("h2", id="results-title").endswith("near 60601")


def test_invalid_search_input_re_renders_the_form_with_a_message(client: TestClient, directory: Directory) -> None:
    response = client.get("/search?near=nowhere-at-all&q=food")
    assert response.status_code == 422
    page = parse(response.text)
    assert page.find("input", name="q").attrs["value"] == "food"  # what was typed is kept
    assert "could not find that place" in page.text_of("div", class_="error")
    fragment = client.get("/search?category=bogus", headers=HTMX)
    assert fragment.status_code == 422 and "<html" not in fragment.text
    assert "category" in parse(fragment.text).text_of("div", class_="error")
    assert client.get("/search?lat=200&lng=1").status_code == 422


def test_search_unavailable_is_a_503_page_while_listings_still_work(
    client: TestClient, directory: Directory, web_app: FastAPI
) -> None:
    import meilisearch

    web_app.state.search_client = meilisearch.Client("http://127.0.0.1:9", "nope", timeout=2)
    response = client.get("/search?near=60601")
    assert response.status_code == 503
    page = parse(response.text)
    assert "temporarily unavailable" in page.text_of("section", class_="error")
    assert page.find("a", href="/organizations")
    fragment = client.get("/search?near=60601", headers=HTMX)
    assert fragment.status_code == 503 and "<html" not in fragment.text
    assert client.get(f"/services/{directory.loop_aa.id}").status_code == 200
    assert client.get(f"/organizations/{directory.loop_aa.organization_id}").status_code == 200
