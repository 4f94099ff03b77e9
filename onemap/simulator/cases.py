"""Cases through the loop, as the district's people would move them, each step a call of the
public API after a delay drawn from the case's plan (scenario.CasePlan):

  reports      POST /api/events, from sim-intake (every channel but the grid workers' own
               and the sensors') or from a simulated grid worker, with an Idempotency-Key
  the officer  (sim-duty) registers or rejects, merges a flagged duplicate into the case it
               repeats (or dismisses the flag), dispatches to the first staff member
               GET /api/events/<id>/suggestions names, verifies or returns the work, closes
  handlers     the simulated grid worker dispatched to (patrol.py: walks there first) or, for
               staff without a simulated phone, sim-desk: accept, now and then suspend and
               resume, report back

The officer also takes on reports it did not make that wait to be registered, as the map's
events layer shows them (the API lists cases no other way), and the cases sensor alarms
open. A case that somebody else moves first (409) is left to them.
"""

from __future__ import annotations

import logging
import random
import time
from collections import deque
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from etl.demo import rhythms

from .cast import Cast, Member
from .client import Answer
from .places import decode
from .schedule import Call, Simulation
from .scenario import (
    CasePlan,
    Category,
    Places,
    Report,
    case_plan,
    draw_report,
    median_limit_hours,
    repeat_of,
    reporter_index,
)

if TYPE_CHECKING:
    from .patrol import Patrol

log = logging.getLogger("onemap.simulate")

NOTES = {
    "register": "经核实属实，予以立案", "reject": "经核实不属于受理范围，不予立案",
    "merge": "与已有案件为同一问题，合并办理", "dispatch": "请按时限处置",
    "accept": "已接单，马上前往", "suspend": "需协调相关单位，申请挂账",
    "resume": "协调完毕，恢复处置", "report_back": "已处置完毕，请核查",
    "return": "现场核查未处置到位，退回重办", "verify": "现场核查已处置到位",
    "close": "处置完毕，予以结案",
}
NO_STAFF_RETRY = timedelta(minutes=10)  # nobody to suggest: the officer looks again
ADOPT_EVERY = timedelta(minutes=15)  # the officer glances at the map for new reports
ADOPT_MIN_REAL_SECONDS = 30.0
RECENT = timedelta(hours=12)  # how far back a repeated report looks


@dataclass
class Case:
    """A case the simulator moves along: where it is, how its steps are planned (from the seed
    and its key), and how far it has come."""

    id: int
    key: str
    lon: float
    lat: float
    limit_h: float  # its category's handling limit, in working hours
    public: bool
    state: str = "reported"
    category: str | None = None
    level: int | None = None
    duplicate_of: int | None = None
    staff_id: int | None = None
    returned: int = 0
    shelved: bool = False  # it has been shelved once already
    by_desk: bool = False  # the desk stands in for whoever it was dispatched to
    plan: CasePlan | None = field(default=None, repr=False)

    def saved(self) -> dict:
        return {k: v for k, v in asdict(self).items() if k != "plan"}


class CaseWork:
    """Reports and the officer's, the desk's and the workers' steps."""

    def __init__(self, sim: Simulation, cast: Cast, seed: int, categories: list[Category],
                 places: Places, district_bbox: str) -> None:
        self.sim, self.cast, self.seed = sim, cast, seed
        self.categories = {c.code: c for c in categories}
        self.category_list = categories
        self.median_limit = median_limit_hours(categories)
        self.places = places
        self.bbox = district_bbox
        self.intake = cast.offices["sim-intake"]
        self.duty = cast.offices["sim-duty"]
        self.desk = cast.offices["sim-desk"]
        self.patrols: list[Patrol] = []
        self.by_staff: dict[int, Patrol] = {}
        self.cases: dict[int, Case] = {}
        self.finished: set[int] = set()
        self.recent: deque[tuple[datetime, Case]] = deque()
        self._last_adoption = 0.0

    # -- bookkeeping ---------------------------------------------------------------------------

    def _plan(self, case: Case) -> CasePlan:
        if case.plan is None:
            case.plan = case_plan(self.seed, case.key, case.limit_h, case.public)
        return case.plan

    def _later(self, hours: float, step) -> None:
        self.sim.at(self.sim.now + timedelta(hours=hours), step)

    def _done(self, case: Case) -> None:
        self.cases.pop(case.id, None)
        self.finished.add(case.id)

    def _move(self, case: Case, who: Member, action: str, then=None, **extra) -> None:
        """POST a transition; on success note the new state and go on with `then`."""
        body = {"action": action, "note": NOTES[action], **extra}

        def answered(answer: Answer) -> None:
            if answer.ok:
                case.state = answer.body["state"]
            elif answer.status == 409 and answer.retried:
                pass  # the first attempt went through before the connection broke
            else:
                self.sim.error(call, answer)
                if answer.status in (404, 409):  # out of reach, or moved by somebody else
                    self._done(case)
                return
            self.sim.stats.count("transition")
            if then is not None:
                then()

        call = Call(who.token, who.name, "POST", f"/api/events/{case.id}/transitions",
                    "transition", answered, body=body)
        self.sim.send(call)

    def add(self, patrol: Patrol) -> None:
        self.patrols.append(patrol)
        self.by_staff[patrol.worker.staff_id] = patrol

    def drop(self, patrol: Patrol) -> None:
        """A worker who cannot go on duty (not on the staff list any more) leaves the run."""
        if patrol in self.patrols:
            self.patrols.remove(patrol)
        self.by_staff.pop(patrol.worker.staff_id, None)

    # -- reports -------------------------------------------------------------------------------

    def report(self, channel: str, index: int) -> None:
        """Send the channel's `index`-th report from whoever makes reports on it."""
        if channel == "grid_worker":
            if not self.patrols:
                return
            patrol = self.patrols[reporter_index(self.seed, index, len(self.patrols))]
            who, places = patrol.worker, patrol.places
        else:
            who, places = self.intake, self.places
        report = draw_report(self.seed, channel, index, self.category_list, places)
        if report.repeats:
            report = self._retold(report)
        call = Call(who.token, who.name, "POST", "/api/events", "report", body=report.body,
                    headers={"Idempotency-Key": report.key})
        call.then = lambda answer: self._reported(report, call, answer)
        self.sim.send(call)

    def _retold(self, report: Report) -> Report:
        """A report about an open case reported in the last hours, if there is one."""
        now = self.sim.now
        while self.recent and (now - self.recent[0][0] > RECENT
                               or self.recent[0][1].id in self.finished):
            self.recent.popleft()
        if not self.recent:
            return report
        _when, earlier = random.Random(f"{self.seed}:retold:{report.key}").choice(self.recent)
        category = self.categories.get(earlier.category or "")
        if category is None:
            return report
        return repeat_of(report, self.seed, earlier.lon, earlier.lat, category,
                         earlier.level or category.default_level)

    def _reported(self, report: Report, call: Call, answer: Answer) -> None:
        if answer.status not in (200, 201):
            self.sim.error(call, answer)
            return
        made = answer.body
        self.sim.stats.count("report" if answer.status == 201 else "known")
        if made["id"] in self.cases or made["id"] in self.finished:
            return  # taken on from the map meanwhile, or a report resent after a restart
        case = Case(made["id"], report.key, report.lon, report.lat,
                    report.category.limit_hours or rhythms.EMERGENCY_LIMIT_HOURS,
                    report.channel in rhythms.PUBLIC, made["state"], report.category.code,
                    made.get("level") or report.level, made.get("duplicate_of_id"))
        self.cases[case.id] = case
        if answer.status == 201 and report.channel != "grid_worker":
            self.recent.append((self.sim.now, case))
        self.resume(case)

    # -- taking on cases the simulator did not report ------------------------------------------

    def take_on(self, case_id: int, lon: float, lat: float, category: str | None = None,
                level: int | None = None, state: str = "reported") -> None:
        if case_id in self.cases or case_id in self.finished:
            return
        known = self.categories.get(category or "")
        limit = known.limit_hours if known and known.limit_hours else self.median_limit
        case = Case(case_id, f"case{case_id}", lon, lat, limit, public=True, state=state,
                    category=category, level=level)
        self.cases[case_id] = case
        self.resume(case)

    def look_at_the_map(self, _from: datetime, now: datetime) -> None:
        """Now and then: the reports waiting on the events layer that nobody took on."""
        real = time.monotonic()
        if real - self._last_adoption < max(ADOPT_MIN_REAL_SECONDS,
                                            ADOPT_EVERY.total_seconds() / self.sim.clock.speed):
            return
        self._last_adoption = real

        def answered(answer: Answer) -> None:
            if answer.status != 200 or not isinstance(answer.body, bytes):
                self.sim.error(call, answer)
                return
            for feature in decode(answer.body).get("features", []):
                props = feature["properties"]
                if props.get("state") == "reported":
                    lon, lat = feature["geometry"]["coordinates"][:2]
                    self.take_on(int(props["id"]), lon, lat, level=props.get("level"))

        call = Call(self.duty.token, self.duty.name, "GET", "/api/layers/events", "read",
                    answered, params={"bbox": self.bbox, "zoom": 16})
        self.sim.send(call)

    # -- where a case goes next ----------------------------------------------------------------

    def resume(self, case: Case) -> None:
        """Plan the next step from the state the case is in (a new report, one resent after a
        restart, one taken on from the map)."""
        plan = self._plan(case)
        step = {
            "reported": (plan.register_h, self._intake),
            "registered": (plan.dispatch_h, self._dispatch),
            "dispatched": (plan.accept_h, self._accept),
            "handling": (0.0, self._handle),
            "suspended": (plan.shelved_h, self._resume_work),
            "handled": (plan.verify_h, self._check),
            "verified": (plan.close_h, self._close),
        }.get(case.state)
        if step is None:
            self._done(case)
            return
        hours, action = step
        self._later(hours, lambda: action(case))

    def _patrol(self, case: Case) -> Patrol | None:
        """The simulated worker who has the case, if one does."""
        return None if case.by_desk else self.by_staff.get(case.staff_id)

    def _handler(self, case: Case) -> Member:
        patrol = self._patrol(case)
        return patrol.worker if patrol else self.desk

    # -- the officer ---------------------------------------------------------------------------

    def _intake(self, case: Case) -> None:
        plan = self._plan(case)
        if case.duplicate_of and plan.merged:
            self._merge(case)
        elif case.duplicate_of:
            self._dismiss(case)
        elif plan.rejected:
            self._move(case, self.duty, "reject", lambda: self._done(case))
        else:
            self._register(case)

    def _register(self, case: Case) -> None:
        self._move(case, self.duty, "register",
                   lambda: self._later(self._plan(case).dispatch_h,
                                       lambda: self._dispatch(case)))

    def _merge(self, case: Case) -> None:
        def answered(answer: Answer) -> None:
            if answer.ok or (answer.status == 409 and answer.retried):
                self.sim.stats.count("transition")
                self._done(case)
            elif answer.status in (400, 409):  # the case it repeats is closed by now
                self._register(case)
            else:
                self.sim.error(call, answer)

        call = Call(self.duty.token, self.duty.name, "POST",
                    f"/api/events/{case.id}/transitions", "transition", answered,
                    body={"action": "merge", "into": case.duplicate_of, "note": NOTES["merge"]})
        self.sim.send(call)

    def _dismiss(self, case: Case) -> None:
        def answered(answer: Answer) -> None:
            if not (answer.ok or answer.status == 409):
                self.sim.error(call, answer)
            self._register(case)

        call = Call(self.duty.token, self.duty.name, "POST",
                    f"/api/events/{case.id}/duplicate/dismiss", "transition", answered,
                    body={"note": "经核实非重复案件"})
        self.sim.send(call)

    def _dispatch(self, case: Case) -> None:
        def suggested(answer: Answer) -> None:
            if answer.status != 200:
                self.sim.error(call, answer)
                if answer.status == 404:
                    self._done(case)
                return
            staff = answer.body.get("staff") or []
            if not staff:
                self.sim.at(self.sim.now + NO_STAFF_RETRY, lambda: self._dispatch(case))
                return
            case.staff_id, case.by_desk = staff[0]["id"], False
            self._move(case, self.duty, "dispatch",
                       lambda: self._later(self._plan(case).accept_h,
                                           lambda: self._accept(case)),
                       staff_id=case.staff_id)

        call = Call(self.duty.token, self.duty.name, "GET",
                    f"/api/events/{case.id}/suggestions", "read", suggested)
        self.sim.send(call)

    def _check(self, case: Case) -> None:
        if self._plan(case).returned and not case.returned:
            case.returned += 1
            self._move(case, self.duty, "return",
                       lambda: self._later(self._plan(case).accept_h,
                                           lambda: self._accept(case)))
        else:
            self._move(case, self.duty, "verify",
                       lambda: self._later(self._plan(case).close_h, lambda: self._close(case)))

    def _close(self, case: Case) -> None:
        self._move(case, self.duty, "close", lambda: self._done(case))

    # -- the handler: a simulated worker, or the desk for everybody else -----------------------

    def _accept(self, case: Case) -> None:
        patrol = self._patrol(case)
        if patrol is None:
            self._move(case, self.desk, "accept", lambda: self._handle(case))
            return

        def answered(answer: Answer) -> None:
            if answer.ok or (answer.status == 409 and answer.retried):
                case.state = "handling"
                self.sim.stats.count("transition")
                patrol.take(case)
            elif answer.status == 404:
                # suggested from outside the worker's grid, which its scope does not reach:
                # the desk stands in
                log.info("case %d lies outside %s's grid: the desk takes it", case.id,
                         patrol.worker.name)
                case.by_desk = True
                self._move(case, self.desk, "accept", lambda: self._handle(case))
            else:
                self.sim.error(call, answer)
                if answer.status == 409:
                    self._done(case)

        call = Call(patrol.worker.token, patrol.worker.name, "POST",
                    f"/api/events/{case.id}/transitions", "transition", answered,
                    body={"action": "accept", "note": NOTES["accept"]})
        self.sim.send(call)

    def _handle(self, case: Case) -> None:
        """Handling starts (a worker: once on site): report back when done, after shelving
        the case for a while now and then."""
        patrol = self._patrol(case)
        if patrol is not None and patrol.current is not case:
            patrol.take(case)  # a restarted run: the worker walks there first
            return
        self.work(case)

    def work(self, case: Case) -> None:
        plan = self._plan(case)
        hours = plan.rework_h if case.returned else plan.work_h
        who = self._handler(case)
        if plan.shelved and not case.shelved:
            case.shelved = True
            self._later(hours / 2, lambda: self._move(
                case, who, "suspend",
                lambda: self._later(plan.shelved_h, lambda: self._resume_work(case))))
            return
        self._later(hours, lambda: self._report_back(case))

    def _resume_work(self, case: Case) -> None:
        plan = self._plan(case)
        hours = (plan.rework_h if case.returned else plan.work_h) / 2
        self._move(case, self._handler(case), "resume",
                   lambda: self._later(hours, lambda: self._report_back(case)))

    def _report_back(self, case: Case) -> None:
        def reported_back() -> None:
            patrol = self._patrol(case)
            if patrol is not None:
                patrol.done(case)
            self._later(self._plan(case).verify_h, lambda: self._check(case))

        self._move(case, self._handler(case), "report_back", reported_back)
