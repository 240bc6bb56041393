import os
from tests.web.conftest import MONDAY_1140_CHICAGO

def test_explore(client, directory):
    for url in os.environ.get("URLS", "/search?near=60601").split(" "):
        r = client.get(url, headers={"HX-Request": "true"} if "hx" in url else {})
        print("=====", url, r.status_code, len(r.content))
        print(r.text)
