"""Pages that lead nowhere are HTTP 404s that still show the not-found page in a browser.
(Unknown API paths: tests/api/test_not_found.py.)"""

from __future__ import annotations

from tests.browser.conftest import Client, sign_in


def _client(base: str) -> Client:
    client = Client(base)
    assert client.sign_in("duty")[0] == 302
    return client


def test_an_unknown_page_is_an_http_404_that_still_shows_the_page(live_server, page):
    client = _client(live_server)
    assert client.request("GET", "/no-such-page")[0] == 404
    for known in ("/", "/wall", "/admin/audit"):
        assert client.request("GET", known)[0] == 200, known
    sign_in(page, live_server, "duty")
    answer = page.goto(live_server + "/no-such-page")
    assert answer.status == 404
    page.wait_for_selector(".not-found")
    assert "页面不存在" in page.inner_text(".not-found")
