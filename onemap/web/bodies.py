"""The API's request bodies and query strings, as the pydantic models its views check them
with and its OpenAPI document describes (onemap/web/openapi.py). An event report's model is
the domain's own (onemap.domain.intake.ReportBody)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from onemap.domain.lifecycle import ACTIONS
from onemap.domain.requests import RequestModel, Text
from onemap.domain.working_calendar import UNITS, TimeLimit

Note = Text(2000, "备注 a note for the case's history")
MAX_EXTENSION = 1000  # in any unit: a larger one is a typing error, not an extension
Id = Annotated[int, Field(ge=1, le=2 ** 63 - 1)]


class TransitionBody(RequestModel):
    """One step of the loop for a case."""

    action: Literal[tuple(ACTIONS)] = Field(description="立案 register, 派遣 dispatch, …")
    note: Note = None
    staff_id: Id | None = Field(None, description="dispatch: who takes the case (GET "
                                "/api/events/{id}/suggestions lists whom to choose)")
    into: Id | None = Field(None, description="merge: the open case the report joins")


class ExtensionBody(RequestModel):
    """延期: more time for a case in hand, with the reason."""

    amount: Annotated[float, Field(gt=0, le=MAX_EXTENSION, allow_inf_nan=False)]
    unit: Literal[tuple(UNITS)]
    note: Text(2000, "延期原因 the reason", required=True)

    @property
    def limit(self) -> TimeLimit:
        return TimeLimit(float(self.amount), self.unit)


class SupervisionBody(RequestModel):
    """督办: what the notice asks of the handler."""

    note: Text(2000, "督办意见 what is asked", required=True)


class NoteBody(RequestModel):
    """A step with nothing but an optional note."""

    note: Note = None


class DutyBody(RequestModel):
    """Start or end a shift."""

    on_duty: bool


class QueryModel(BaseModel):
    """A query string: every value arrives as text, so numbers are read from it."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class ViewportQuery(QueryModel):
    """The screen a map shows (the layer's own options are further keys: GET /api/layers)."""

    bbox: str = Field(description="west,south,east,north in degrees (WGS84)",
                      pattern=r"^[-+0-9.eE]+(,[-+0-9.eE]+){3}$")
    zoom: Annotated[int, Field(ge=0, le=22, description="the map's zoom level")]


class LiveQuery(QueryModel):
    since: str | None = Field(None, max_length=512,
                              description="the token of the last answer; none: everything")


class SearchBody(RequestModel):
    q: Text(64, "姓名或证件号码 a name or an ID number", required=True)


class UnmaskBody(RequestModel):
    purpose: Annotated[str, Field(min_length=4, max_length=500,
                                  description="查看原因 why (kept in the audit log)")]


class WindowQuery(QueryModel):
    """A time window; the last 24 hours when neither end is given."""

    since: str | None = Field(None, max_length=40, description="ISO 8601 with its offset")
    until: str | None = Field(None, max_length=40, description="ISO 8601 with its offset; now")


class LookupSearchBody(RequestModel):
    """The one search box: what was typed, and where the user stands on the navigator."""

    q: Text(64, "姓名、拼音、证件号、手机号、地址、房号（3-2-501）、企业或场所"
                " a name, pinyin, ID, phone, address, room (3-2-501), enterprise or place",
            required=True)
    building_id: Id | None = Field(None, description="the chosen building: 3-2-501 is looked"
                                   " for in its compound")
    community: str | None = Field(None, pattern=r"^[0-9]{12}$",
                                  description="the chosen community's 12-digit code: 3-2-501"
                                  " is looked for in it")
