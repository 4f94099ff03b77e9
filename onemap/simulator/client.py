"""HTTP to OneMap's API with an API token, retried when the server is out of reach.

A connection error, a timeout, or a 502/503/504 is tried again after the server's Retry-After
(else 1, 2, 4 … 30 s) until it answers or the run stops. That is safe for every call the
simulator makes: a report carries an Idempotency-Key (the server answers a resent one with
the case it already made), a batch of readings is stored once however often it is sent, a
position or duty change is the same change again, and a transition the first attempt already
made answers 409, which the caller reads as done (`Answer.retried`).
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

RETRY_STATUSES = (502, 503, 504)
FIRST_WAIT, LONGEST_WAIT = 1.0, 30.0
USER_AGENT = "onemap-simulate/1"


@dataclass(frozen=True)
class Answer:
    """What came back: the status (None when nothing did: the run stopped first), the JSON
    body (or the text of a body that is not JSON), the last attempt's seconds, how many
    attempts it took, and the last failure's name."""

    status: int | None
    body: Any
    seconds: float
    attempts: int = 1
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def retried(self) -> bool:
        """Sent more than once: an earlier attempt may have done what was asked."""
        return self.attempts > 1


RetryNote = Callable[[str, str, str, float], None]  # method, path, why, seconds to wait


class Api:
    """Calls to one OneMap server (a connection per call: loopback or a LAN, and the standard
    library's client, so the simulator needs nothing more than the app)."""

    def __init__(self, base_url: str, stop: threading.Event, *, timeout: float = 30.0,
                 on_retry: RetryNote | None = None) -> None:
        self.base = base_url.rstrip("/")
        self.stop = stop
        self.timeout = timeout
        self.on_retry = on_retry or (lambda method, path, why, wait: None)

    def _once(self, method: str, url: str, data: bytes | None, headers: dict,
              timeout: float) -> tuple[int, dict, bytes]:
        request = urllib.request.Request(url, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as answer:  # a status of 400 or more is an answer too
            with answer:
                return answer.code, dict(answer.headers), answer.read()

    def call(self, token: str, method: str, path: str, *, body: Any = None,
             params: dict | None = None, headers: dict | None = None, retry: bool = True,
             timeout: float | None = None) -> Answer:
        """One call, tried again while the server is out of reach (unless `retry` is off)."""
        url = self.base + path + (f"?{urlencode(params)}" if params else "")
        sent = {"Authorization": f"Bearer {token}", "User-Agent": USER_AGENT,
                "Accept": "application/json, application/x-protobuf", **(headers or {})}
        data = None
        if body is not None:
            data = json.dumps(body, ensure_ascii=False).encode()
            sent["Content-Type"] = "application/json"
        attempts, wait = 0, FIRST_WAIT
        while True:
            attempts += 1
            began = time.monotonic()
            try:
                status, answer_headers, content = self._once(method, url, data, sent,
                                                              timeout or self.timeout)
            except (urllib.error.URLError, http.client.HTTPException, ConnectionError,
                    socket.timeout) as exc:
                reason = getattr(exc, "reason", exc)
                why, pause, answer = type(reason).__name__, wait, None
            else:
                answer = Answer(status, _body(answer_headers, content),
                                time.monotonic() - began, attempts)
                if status not in RETRY_STATUSES:
                    return answer
                why = str(status)
                pause = _retry_after(answer_headers.get("Retry-After"), wait)
            if not retry:
                return answer or Answer(None, None, time.monotonic() - began, attempts, why)
            self.on_retry(method, path, why, pause)
            if self.stop.wait(pause):  # stopping: no more attempts, the caller is told
                return Answer(None, None, time.monotonic() - began, attempts, why)
            wait = min(wait * 2, LONGEST_WAIT)

    def healthy(self) -> bool:
        """Whether the server answers its health check (no token, no retry)."""
        try:
            return self._once("GET", self.base + "/healthz", None,
                              {"User-Agent": USER_AGENT}, 3.0)[0] == 200
        except (urllib.error.URLError, http.client.HTTPException, ConnectionError,
                socket.timeout):
            return False


def _body(headers: dict, content: bytes) -> Any:
    if not content:
        return None
    kind = {k.lower(): v for k, v in headers.items()}.get("content-type", "")
    if kind.startswith("application/x-protobuf"):
        return content  # a layer's geobuf
    try:
        return json.loads(content)
    except ValueError:
        return content.decode("utf-8", "replace")[:500]


def _retry_after(value: str | None, default: float) -> float:
    """The server's Retry-After in seconds (within reason), else our own back-off."""
    try:
        return min(max(float(value), 0.5), 2 * LONGEST_WAIT)
    except (TypeError, ValueError):
        return default
