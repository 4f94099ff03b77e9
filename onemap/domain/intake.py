"""What an event report must hold before it is accepted: fields, ranges, and coordinates.

Coordinates may come in WGS84, GCJ-02 (AMap, Tencent, WeChat) or BD-09 (Baidu): phones and
apps report in the shifted systems, and the database stores WGS84.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from onemap.domain.coordinates import to_wgs84
from onemap.domain.vocab import CHANNELS, EVENT_LEVELS

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


def _text(payload: dict, name: str, limit: int, errors: dict, required: bool = False):
    value = payload.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            errors[name] = "required / 必填"
        return None
    if not isinstance(value, str):
        errors[name] = "must be text / 须为文本"
        return None
    value = value.strip()
    if len(value) > limit:
        errors[name] = f"at most {limit} characters / 最多 {limit} 个字符"
    return value


def _is_number(value) -> bool:
    """A JSON number: int or float, never a boolean (bool is an int in Python)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _photos(payload: dict, errors: dict) -> tuple[str, ...]:
    """Links to the report's photos (the photos stay where the sender keeps them)."""
    value = payload.get("photos")
    if value is None:
        return ()
    if not isinstance(value, list) or len(value) > MAX_PHOTOS or not all(
            isinstance(url, str) and len(url) <= MAX_URL and urlsplit(url).scheme in (
                "http", "https") and urlsplit(url).netloc for url in value):
        errors["photos"] = (f"a list of at most {MAX_PHOTOS} http(s) links of at most {MAX_URL}"
                            f" characters / 至多 {MAX_PHOTOS} 个 http(s) 链接")
        return ()
    return tuple(value)


def _idempotency(payload: dict, key: str | None, errors: dict) -> str | None:
    """The reference a retried report is known by: the body's external_ref, or else the
    Idempotency-Key header; both given, they must agree."""
    ref = _text(payload, "external_ref", 64, errors)
    if key is None:
        return ref
    if not key.isascii() or not key.isprintable() or not 0 < len(key) <= MAX_KEY:
        errors["Idempotency-Key"] = f"1 to {MAX_KEY} printable ASCII characters"
        return ref
    if ref is not None and ref != key:
        errors["Idempotency-Key"] = "differs from external_ref / 与 external_ref 不一致"
    return key


def parse_report(payload: dict, *, default_channel: str,
                 idempotency_key: str | None = None) -> EventReport:
    """Check a JSON body (and an Idempotency-Key header); raise InvalidReport naming every bad
    field at once."""
    errors: dict[str, str] = {}
    if not isinstance(payload, dict):
        raise InvalidReport({"body": "a JSON object is expected / 须为 JSON 对象"})
    title = _text(payload, "title", MAX_TITLE, errors, required=True)
    description = _text(payload, "description", MAX_DESCRIPTION, errors)
    category = _text(payload, "category_code", 16, errors, required=True)
    address = _text(payload, "address", 256, errors)
    reporter_name = _text(payload, "reporter_name", 64, errors)
    reporter_phone = _text(payload, "reporter_phone", 20, errors)
    external_ref = _idempotency(payload, idempotency_key, errors)
    photos = _photos(payload, errors)
    channel = payload.get("channel", default_channel)
    if not isinstance(channel, str) or channel not in CHANNELS:
        errors["channel"] = f"one of {', '.join(CHANNELS)}"
    level = payload.get("level")
    # true == 1 and 1.0 == 1 in Python: only a whole number (not a boolean) is a level
    if level is not None and not (_is_number(level) and isinstance(level, int)
                                  and level in EVENT_LEVELS):
        errors["level"] = "a whole number 1 to 5 / 一至五级整数"
    position = _position(payload, errors)
    if errors:
        raise InvalidReport(errors)
    return EventReport(title, description, category, level, channel, external_ref,
                       *position, address, reporter_name, reporter_phone, photos)


def _position(payload: dict, errors: dict) -> tuple[float, float] | None:
    """lon/lat in the body's datum (`crs`), as WGS84; None (and `errors` says why) if bad."""
    crs = payload.get("crs", "wgs84")
    crs = crs.lower() if isinstance(crs, str) else None
    if crs not in CRS_CHOICES:
        errors["crs"] = f"one of {', '.join(CRS_CHOICES)}"
    lon, lat = payload.get("lon"), payload.get("lat")
    if not all(_is_number(v) for v in (lon, lat)):
        errors["lon/lat"] = "numbers are required / 须提供经纬度"
    elif not (-180 <= lon <= 180 and -90 <= lat <= 90):
        errors["lon/lat"] = "out of range / 超出范围"
    if errors.keys() & {"crs", "lon/lat"}:
        return None
    wgs_lon, wgs_lat = to_wgs84(crs)(float(lon), float(lat))
    return float(wgs_lon), float(wgs_lat)


def parse_position(payload) -> tuple[float, float]:
    """A phone's position {"lon", "lat", "crs"?} as WGS84, or InvalidReport naming the fields."""
    errors: dict[str, str] = {}
    if not isinstance(payload, dict):
        raise InvalidReport({"body": "a JSON object is expected / 须为 JSON 对象"})
    position = _position(payload, errors)
    if position is None:
        raise InvalidReport(errors)
    return position
