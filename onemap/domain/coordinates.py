"""Conversions between WGS-84 and China's shifted datums GCJ-02 and BD-09.

Every function takes ``(lon, lat)`` in degrees, as scalars or numpy arrays
(broadcast against each other), and returns ``(lon, lat)`` in the same order.
Scalar input gives numpy float64 scalars back, array input gives arrays.

GCJ-02 ("Mars coordinates") is WGS-84 plus a deliberately obfuscated offset
of a few hundred metres; BD-09 is Baidu's further shift on top of GCJ-02.
The forward transforms are the well-known public reconstructions; the
inverses are solved iteratively to well below a centimetre instead of the
usual one-step approximation (which is off by up to several metres for
GCJ-02 and ~0.2 m for BD-09).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
import shapely

__all__ = [
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "out_of_china",
    "to_wgs84",
    "transform_geometry",
    "wgs84_to_bd09",
    "wgs84_to_gcj02",
]

ArrayLike = Any  # float or numpy array; kept loose so both type-check at call sites
LonLat = tuple[Any, Any]
LonLatFunc = Callable[[ArrayLike, ArrayLike], LonLat]

# Krasovsky 1940 ellipsoid, which the GCJ-02 algorithm is built on.
_A = 6378245.0
_EE = 0.00669342162296594323
_X_PI = np.pi * 3000.0 / 180.0

# The customary rough bounding box; GCJ-02 leaves points outside it alone.
_LON_MIN, _LON_MAX = 72.004, 137.8347
_LAT_MIN, _LAT_MAX = 0.8293, 55.8271

# Fixed-point iteration gains about three digits per step (the offset varies
# slowly), so 1e-12 degrees (~0.1 micrometre) is reached in about 5 steps.
_TOL_DEG = 1e-12
_MAX_ITER = 20


def _as_float_arrays(lon: ArrayLike, lat: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Broadcast inputs to float64 arrays of a common shape."""
    x, y = np.broadcast_arrays(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    return x, y


def _out(x: np.ndarray, y: np.ndarray) -> LonLat:
    """Unwrap 0-d arrays so scalar input gives scalar output."""
    return x[()], y[()]


def out_of_china(lon: ArrayLike, lat: ArrayLike) -> Any:
    """Return True where the point lies outside the rough China bounding box."""
    x, y = _as_float_arrays(lon, lat)
    inside = (x >= _LON_MIN) & (x <= _LON_MAX) & (y >= _LAT_MIN) & (y <= _LAT_MAX)
    return (~inside)[()]


def _transform_lat(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Latitude offset polynomial of the GCJ-02 algorithm (metres, before scaling)."""
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    return ret


def _transform_lon(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Longitude offset polynomial of the GCJ-02 algorithm (metres, before scaling)."""
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    return ret


def _gcj_offset(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 minus WGS-84 in degrees at WGS-84 point (x, y), ignoring the bounding box."""
    dlat = _transform_lat(x - 105.0, y - 35.0)
    dlon = _transform_lon(x - 105.0, y - 35.0)
    radlat = y / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrtmagic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * np.cos(radlat) * np.pi)
    return dlon, dlat


def _invert(
    forward: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]],
    tx: np.ndarray,
    ty: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Solve forward(x, y) == (tx, ty) by fixed-point iteration from the guess (x, y)."""
    # Both datum shifts are near-translations, so subtracting the residual is a
    # contraction with a tiny Lipschitz constant; no Jacobian needed.
    for _ in range(_MAX_ITER):
        fx, fy = forward(x, y)
        rx, ry = fx - tx, fy - ty
        x, y = x - rx, y - ry
        if x.size == 0 or max(np.max(np.abs(rx)), np.max(np.abs(ry))) < _TOL_DEG:
            break
    return x, y


def _wgs_to_gcj_raw(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """WGS-84 to GCJ-02 without the bounding-box pass-through."""
    dlon, dlat = _gcj_offset(x, y)
    return x + dlon, y + dlat


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> LonLat:
    """Convert WGS-84 to GCJ-02; points outside China are returned unchanged."""
    x, y = _as_float_arrays(lon, lat)
    gx, gy = _wgs_to_gcj_raw(x, y)
    outside = out_of_china(x, y)
    return _out(np.where(outside, x, gx), np.where(outside, y, gy))


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> LonLat:
    """Convert GCJ-02 to WGS-84 by iterative inversion (error far below 1 cm)."""
    x, y = _as_float_arrays(lon, lat)
    dlon, dlat = _gcj_offset(x, y)
    # The one-step approximation is the starting guess; the box test uses the
    # GCJ input because that is all the caller knows.
    wx, wy = _invert(_wgs_to_gcj_raw, x, y, x - dlon, y - dlat)
    outside = out_of_china(x, y)
    return _out(np.where(outside, x, wx), np.where(outside, y, wy))


def _gcj_to_bd_raw(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 to BD-09 on float arrays."""
    z = np.hypot(x, y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> LonLat:
    """Convert GCJ-02 to BD-09 (applied everywhere, Baidu has no bounding box)."""
    return _out(*_gcj_to_bd_raw(*_as_float_arrays(lon, lat)))


def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> LonLat:
    """Convert BD-09 to GCJ-02 by iterative inversion (error far below 1 cm)."""
    bx, by = _as_float_arrays(lon, lat)
    # Classic closed-form approximation (up to ~0.2 m off) as the starting guess.
    x, y = bx - 0.0065, by - 0.006
    z = np.hypot(x, y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    gx, gy = _invert(_gcj_to_bd_raw, bx, by, z * np.cos(theta), z * np.sin(theta))
    return _out(gx, gy)


def wgs84_to_bd09(lon: ArrayLike, lat: ArrayLike) -> LonLat:
    """Convert WGS-84 to BD-09 via GCJ-02."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> LonLat:
    """Convert BD-09 to WGS-84 via GCJ-02."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


def _identity(lon: ArrayLike, lat: ArrayLike) -> LonLat:
    """Return the input as floats, so WGS-84 data goes through the same code path."""
    return _out(*_as_float_arrays(lon, lat))


_TO_WGS84: dict[str, LonLatFunc] = {
    "wgs84": _identity,
    "gcj02": gcj02_to_wgs84,
    "bd09": bd09_to_wgs84,
}


def to_wgs84(crs: str) -> LonLatFunc:
    """Return the (lon, lat) -> (lon, lat) function converting crs to WGS-84."""
    try:
        return _TO_WGS84[crs.strip().lower()]
    except (KeyError, AttributeError):
        accepted = ", ".join(repr(k) for k in _TO_WGS84)
        raise ValueError(f"unknown crs {crs!r}; accepted values: {accepted}") from None


def _shapely_at_least(major: int, minor: int) -> bool:
    """Compare the installed shapely version with major.minor."""
    # Only the leading digits count, so '2.1.0rc1' or '2.0b1' parse as 2.1 / 2.0.
    found = re.match(r"(\d+)\.(\d+)", shapely.__version__)
    return found is not None and (int(found[1]), int(found[2])) >= (major, minor)


# include_z=None (per-geometry detection) exists from shapely 2.1; on 2.0 Z is dropped.
_INCLUDE_Z: bool | None = None if _shapely_at_least(2, 1) else False


def transform_geometry(geom: Any, func: LonLatFunc) -> Any:
    """Apply a (lon, lat) -> (lon, lat) function to a shapely geometry (or array of them)."""

    def _apply(coords: np.ndarray) -> np.ndarray:
        out = np.array(coords, dtype=float)  # copy; Z (if any) passes through untouched
        if len(out):
            out[:, 0], out[:, 1] = func(coords[:, 0], coords[:, 1])
        return out

    return shapely.transform(geom, _apply, include_z=_INCLUDE_Z)
