"""Oversized bodies sent to a served OneMap byte by byte: 413 with a JSON error before the body
is read (announced) or as soon as the limit is passed (chunked), and the server still answers.
Served, not in-process: what is tested is what gunicorn and the app do with a socket whose
body has not arrived (or never ends), which Flask's test client cannot send. The rest of the
malformed input is tested in-process: tests/api/test_malformed_input.py."""

from __future__ import annotations

import http.client
import json
import socket
import urllib.request

import pytest

from tests.support.answers import refused, send_json, signed_in_clients
from tests.support.clients import Client

LIMIT = 1_048_576  # the default ONEMAP_MAX_BODY_BYTES


@pytest.fixture(scope="module")
def clients(live_server, demo_users):
    return signed_in_clients(live_server)



# -- 1. the body limit ----------------------------------------------------------------------

def _socket_request(client: Client, head: str, body_chunks=()) -> tuple[int, dict, bytes]:
    """Send a request by hand (head, then chunks as given) and read the answer."""
    host, port = client.netloc.split(":")
    with socket.create_connection((host, int(port)), timeout=15) as sock:
        sock.sendall(head.encode())
        for chunk in body_chunks:
            sock.sendall(chunk)
        response = http.client.HTTPResponse(sock)
        response.begin()
        return response.status, dict(response.headers), response.read()


def _head(client: Client, path: str, extra: str) -> str:
    cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
    return (f"POST {path} HTTP/1.1\r\nHost: {client.netloc}\r\nOrigin: {client.base}\r\n"
            f"Cookie: {cookie}\r\nContent-Type: application/json\r\n{extra}\r\n")


def test_a_body_announced_over_the_limit_is_refused_before_it_is_sent(clients, live_server):
    # only the head goes out: the answer must come without the server waiting for the body
    head = _head(clients["duty"], "/api/events", f"Content-Length: {2 * LIMIT}\r\n")
    status, headers, body = _socket_request(clients["duty"], head)
    assert status == 413
    assert headers["Content-Type"].startswith("application/json")
    assert json.loads(body)["error"].startswith("request body larger than 1048576 bytes / ")
    with urllib.request.urlopen(live_server + "/healthz", timeout=5) as response:
        assert response.status == 200
    # just under the limit is read as usual: the view names the overlong title
    body = {"title": "x" * (LIMIT - 1000), "category_code": "E0102", "lon": 0, "lat": 0}
    assert "invalid report" in refused(send_json(clients["duty"], "/api/events", body))


def test_a_chunked_body_is_cut_off_at_the_limit(clients, live_server):
    """No Content-Length: the server reads up to the limit and stops (the body is never
    finished here, so an answer at all shows it did not wait for the rest)."""
    head = _head(clients["duty"], "/api/events", "Transfer-Encoding: chunked\r\n")
    piece = b"[" * 65536
    chunks = [b"%x\r\n%s\r\n" % (len(piece), piece)] * (LIMIT // len(piece) + 2)
    status, headers, body = _socket_request(clients["duty"], head, chunks)
    assert status == 413, body[:300]
    assert headers["Content-Type"].startswith("application/json")
    with urllib.request.urlopen(live_server + "/healthz", timeout=5) as response:
        assert response.status == 200
