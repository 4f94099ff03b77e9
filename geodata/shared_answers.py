"""Answers the wall screens share: one query per change, not one per screen.

After every change to a case, every wall screen reloads its rail and its case layers (the
live clock tells them to), and with two hundred screens that fan-out, not the poll, is what
saturates two cores (BENCHMARKS.md, "Load: wall screens"). Screens of one role and one scope
ask the same questions of the same data, so the first to ask after a change computes the
answer and the others in the same process take it.

An answer is keyed by everything that decides it:

- what is asked (a name and its parameters: a layer, its padded view, its options);
- who asks, as the database sees it: `onemap.current_scope()` of the request's own session
  and what its policies ask the session (`session_can`), read in the request's own
  transaction (a session that ended, or whose scope changed, gets a different key or none),
  and the user's role, which decides what the server masks;
- the data: the live clock of the topics the answer reads (a change moves it), and the
  minute (what depends on the time, a case running out of time, changes at most each minute,
  as the rail's own refresh does).

So an answer is never older than the clock the request saw, and never crosses a scope or a
role. Only what depends on nothing else may be shared: nothing that reads the user's own rows
(`current_app_user_id()`), which is why a layer opts in (`Layer.shared`). The cache is per
process, bounded, and holds nothing another worker needs: a worker without it computes.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from typing import TypeVar

from sqlalchemy import Connection, text

T = TypeVar("T")

CAPACITY = 256  # answers kept per process: views × layers × scopes of the screens in use
WAIT_SECONDS = 10.0  # how long a request waits for the same answer another thread computes

# the capabilities the database's own policies and functions ask the session about
# (session_can in the migrations; tests/db/map_layers/test_shared_answers.py keeps this whole)
POLICY_CAPABILITIES = ("export", "unmask_person", "view_audit", "view_sensitive_tags")

_KEY = text(f"""
SELECT onemap.current_scope(),
       ARRAY[{", ".join(f"onemap.session_can('{c}')" for c in POLICY_CAPABILITIES)}],
       date_trunc('minute', now()),
       (SELECT coalesce(sum(version), 0) FROM onemap.live_clock WHERE topic = ANY(:topics))
""")


class _Pending:
    """An answer one thread is computing; the others with the same key wait for it."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.value = None
        self.failed = False


class SharedAnswers:
    """A bounded, thread-safe map of answers by key, computing each key once at a time."""

    def __init__(self, capacity: int = CAPACITY) -> None:
        self.capacity = capacity
        self._answers: OrderedDict[Hashable, object] = OrderedDict()
        self._pending: dict[Hashable, _Pending] = {}
        self._lock = threading.Lock()
        self.computed = 0  # how many answers were computed, and how many were shared
        self.shared = 0

    def answer(self, conn: Connection, *, role: str, scope_code: str, name: str,
               params: Hashable, topics: Iterable[str],
               compute: Callable[[Connection], T]) -> T:
        """`compute(conn)`, or the answer another request of the same role and scope got for
        the same question at the same clock and minute."""
        topics = sorted(set(topics))
        scope_now, can, minute, clock = conn.execute(_KEY, {"topics": topics}).one()
        if scope_now != scope_code:  # the session ended or moved: nothing to share with
            return compute(conn)
        key = (name, params, role, scope_now, tuple(can), minute, int(clock), tuple(topics))
        with self._lock:
            if key in self._answers:
                self._answers.move_to_end(key)
                self.shared += 1
                return self._answers[key]
            pending = self._pending.get(key)
            owner = pending is None
            if owner:
                pending = self._pending[key] = _Pending()
        if not owner:
            if pending.done.wait(WAIT_SECONDS) and not pending.failed:
                with self._lock:
                    self.shared += 1
                return pending.value
            return compute(conn)
        try:
            value = compute(conn)
        except BaseException:
            pending.failed = True
            raise
        else:
            pending.value = value
            with self._lock:
                self.computed += 1
                self._answers[key] = value
                while len(self._answers) > self.capacity:
                    self._answers.popitem(last=False)
            return value
        finally:
            with self._lock:
                self._pending.pop(key, None)
            pending.done.set()

    def clear(self) -> None:
        with self._lock:
            self._answers.clear()


# the process's one cache (the wall's rail and its shared layers)
SHARED = SharedAnswers()
