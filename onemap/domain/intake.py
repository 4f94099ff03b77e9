"""What an event report must hold before it is accepted: fields, ranges, and coordinates.

Coordinates may come in WGS84, GCJ-02 (AMap, Tencent, WeChat) or BD-09 (Baidu): phones and
apps report in the shifted systems, and the database stores WGS84.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BeforeValidator, Field, ValidationError

from onemap.domain.coordinates import to_wgs84
from onemap.domain.requests import RequestModel, Text, field_errors
from onemap.domain.vocab import CHANNELS

MAX_TITLE = 200
MAX_DESCRIPTION = 4000
CRS_CHOICES = ("wgs84", "gcj02", "bd09")
MAX_PHOTOS, MAX_URL = 9, 500  # a report's photos: the nine a phone's picker offers
MAX_KEY = 64  # an Idempotency-Key, kept as the report's external reference


@dataclass(frozen=True)
class EventReport:
    """A validated report, ready to be registered in the database."""

    title: str
    description: str | None
    category_code: str
    level: int | None
    channel: str
    external_ref: str | None
    lon: float
    lat: float
    address: str | None
    reporter_name: str | None
    reporter_phone: str | None
    photos: tuple[str, ...] = ()


class InvalidReport(ValueError):
    """A report that cannot be accepted; `errors` maps each field to what is wrong with it."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def _lower(value):
    return value.lower() if isinstance(value, str) else value


def _web_link(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("an http(s) link")
    return url


Crs = Annotated[Literal[CRS_CHOICES], BeforeValidator(_lower),
                Field(description="Datum of lon/lat: phones and apps report in GCJ-02 (AMap, "
                      "Tencent, WeChat) or BD-09 (Baidu); 坐标系")]
Longitude = Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False,
                                   description="经度 longitude, in the datum `crs` names")]
Latitude = Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False,
                                  description="纬度 latitude, in the datum `crs` names")]
PhotoLink = Annotated[str, Field(max_length=MAX_URL), AfterValidator(_web_link)]


class PositionBody(RequestModel):
    """A point as a phone reports it."""

    lon: Longitude
    lat: Latitude
    crs: Crs = "wgs84"


class ReportBody(PositionBody):
    """An event report (上报): what, where, how it came in. Level and channel have defaults:
    the category's level, and the channel of the endpoint that took it."""

    title: Text(MAX_TITLE, "事件标题 title", required=True)
    category_code: Text(16, "事件类别编码 category code from the catalogue (GB/T 30428.2 and "
                        "the district's own, e.g. E0102 exposed rubbish)", required=True)
    description: Text(MAX_DESCRIPTION, "描述 description") = None
    level: Annotated[int, Field(ge=1, le=5, description="等级 1 (most urgent) – 5")] | None = None
    channel: Literal[tuple(CHANNELS)] | None = Field(None, description="上报渠道 channel")
    external_ref: Text(MAX_KEY, "the sender's own reference: a retry with the same one gets "
                       "the first case back (or send the Idempotency-Key header)") = None
    address: Text(256, "地址 address") = None
    reporter_name: Text(64, "上报人 reporter's name (masked to every reader)") = None
    reporter_phone: Text(20, "上报人电话 reporter's phone (masked to every reader)") = None
    photos: Annotated[list[PhotoLink], Field(max_length=MAX_PHOTOS)] | None = Field(
        None, description=f"至多 {MAX_PHOTOS} 张照片的链接 links to at most {MAX_PHOTOS} photos")


_LON_LAT = {"lon": "lon/lat", "lat": "lon/lat"}


def _idempotency(ref: str | None, key: str | None, errors: dict) -> str | None:
    """The reference a retried report is known by: the body's external_ref, or else the
    Idempotency-Key header; both given, they must agree."""
    if key is None:
        return ref
    if not key.isascii() or not key.isprintable() or not 0 < len(key) <= MAX_KEY:
        errors["Idempotency-Key"] = f"1 to {MAX_KEY} printable ASCII characters"
        return ref
    if ref is not None and ref != key:
        errors["Idempotency-Key"] = "differs from external_ref / 与 external_ref 不一致"
    return key


def _checked(model: type[RequestModel], payload) -> tuple[RequestModel | None, dict]:
    if not isinstance(payload, dict):
        return None, {"body": "a JSON object is expected / 须为 JSON 对象"}
    try:
        return model.model_validate(payload), {}
    except ValidationError as exc:
        errors = field_errors(exc, {**_LON_LAT, "photos": "photos"})
        if "photos" in errors:
            errors["photos"] = (f"a list of at most {MAX_PHOTOS} http(s) links of at most "
                                f"{MAX_URL} characters / 至多 {MAX_PHOTOS} 个 http(s) 链接")
        return None, errors


def parse_report(payload: dict, *, default_channel: str,
                 idempotency_key: str | None = None) -> EventReport:
    """Check a JSON body (and an Idempotency-Key header) against ReportBody; raise
    InvalidReport naming every bad field at once."""
    body, errors = _checked(ReportBody, payload)
    external_ref = _idempotency(body.external_ref if body else None, idempotency_key, errors)
    if errors:
        raise InvalidReport(errors)
    lon, lat = _wgs84(body)
    return EventReport(body.title, body.description, body.category_code, body.level,
                       body.channel or default_channel, external_ref, lon, lat, body.address,
                       body.reporter_name, body.reporter_phone, tuple(body.photos or ()))


def _wgs84(position: PositionBody) -> tuple[float, float]:
    lon, lat = to_wgs84(position.crs)(float(position.lon), float(position.lat))
    return float(lon), float(lat)


def parse_position(payload) -> tuple[float, float]:
    """A phone's position {"lon", "lat", "crs"?} as WGS84, or InvalidReport naming the fields."""
    body, errors = _checked(PositionBody, payload)
    if errors:
        raise InvalidReport(errors)
    return _wgs84(body)
