"""Cameras along roads and at schools, hospitals, malls and compounds; sensors of every kind."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
import shapely

from .geo import jitter

# where cameras go: share, and the owner they get there
CAMERA_SITES = {"road": 0.42, "public": 0.12, "commercial": 0.14, "residential": 0.32}

# kind: share, placement, unit, low, high, normal level and spread
SENSORS = {
    "gas": (0.28, "residential", "%LEL", None, 20.0, 1.0, 1.0),
    "smoke": (0.22, "any", "dB/m", None, 0.15, 0.01, 0.01),
    "manhole_cover": (0.12, "road", "°", None, 15.0, 1.0, 1.0),
    "water_pressure": (0.07, "road", "MPa", 0.15, 0.60, 0.35, 0.04),
    "water_leak": (0.05, "road", "L/min", None, 5.0, 0.3, 0.3),
    "power": (0.07, "any", "A", None, 80.0, 35.0, 10.0),
    "water_level": (0.03, "road", "m", None, 1.5, 0.3, 0.15),
    "wristband": (0.10, "worn", "bpm", 45.0, 130.0, 75.0, 8.0),
    "emergency_button": (0.06, "worn", "", None, None, 0.0, 0.0),
}


def _road_points(roads, n: int, rng: np.random.Generator, to_wgs84) -> tuple[np.ndarray, ...]:
    """n points along the roads (longer roads get more), with the road's bearing in degrees."""
    lines = [r.line for r in roads]
    lengths = np.array([line.length for line in lines])
    pick = rng.choice(len(lines), n, p=lengths / lengths.sum())
    along = rng.random(n) * lengths[pick]
    points = shapely.line_interpolate_point(np.array(lines, dtype=object)[pick], along)
    ahead = shapely.line_interpolate_point(np.array(lines, dtype=object)[pick],
                                           np.minimum(along + 5, lengths[pick]))
    dx = shapely.get_x(ahead) - shapely.get_x(points)
    dy = shapely.get_y(ahead) - shapely.get_y(points)
    bearing = (np.degrees(np.arctan2(dx, dy)) + 360) % 360
    lon, lat = to_wgs84(shapely.get_x(points), shapely.get_y(points))
    return np.asarray(lon), np.asarray(lat), bearing


def generate_cameras(buildings: pd.DataFrame, roads, rng: np.random.Generator, n: int,
                     district_code: str, to_wgs84) -> pd.DataFrame:
    """Cameras with GB/T 28181 ids; `to_wgs84(x, y)` projects the roads' metric coordinates."""
    counts = {site: int(round(share * n)) for site, share in CAMERA_SITES.items()}
    counts["residential"] += n - sum(counts.values())
    parts = []
    lon, lat, bearing = _road_points(roads, counts["road"], rng, to_wgs84)
    parts.append(pd.DataFrame({
        "lon": lon, "lat": lat, "heading": (bearing + rng.choice([0, 180], len(lon))) % 360,
        "owner": rng.choice(np.array(["traffic_police", "police"]), len(lon), p=[0.45, 0.55]),
    }))
    owners = {"public": ("school", "hospital", "government"), "commercial": ("mall", "enterprise"),
              "residential": ("residential",)}
    for site in ("public", "commercial", "residential"):
        pool = buildings[buildings["use"].isin([site, "mixed"] if site != "public" else [site])]
        picked = pool.iloc[rng.choice(len(pool), counts[site])]
        blon, blat = jitter(picked["lon"].to_numpy(), picked["lat"].to_numpy(), 20, rng)
        parts.append(pd.DataFrame({
            "lon": blon, "lat": blat, "heading": rng.integers(0, 360, len(picked)).astype(float),
            "owner": rng.choice(np.array(owners[site]), len(picked)),
        }))
    cameras = pd.concat(parts, ignore_index=True)
    m = len(cameras)
    dome = rng.random(m) < 0.3
    hd = rng.random(m) < 0.55  # seeds: 2,600 HD of 5,500
    cameras["kind"] = np.where(dome, np.where(hd, "hd_dome", "dome"),
                               np.where(hd, "hd_bullet", "bullet"))
    cameras.loc[rng.random(m) < 0.03, "kind"] = "panoramic"
    pans = cameras["kind"].isin(["hd_dome", "dome", "panoramic"]).to_numpy()
    cameras["heading"] = np.where(pans, np.nan, np.round(cameras["heading"]) % 360)
    cameras["fov_deg"] = np.where(pans, 360, rng.integers(55, 100, m))
    cameras["range_m"] = np.where(hd, rng.integers(60, 150, m), rng.integers(30, 80, m))
    cameras["status"] = rng.choice(np.array(["online", "offline", "fault"]), m, p=[0.94, 0.05, 0.01])
    cameras.insert(0, "id", np.arange(1, m + 1))
    # GB/T 28181: 8-digit centre code, 2-digit industry, 3-digit type (132 = IP camera), net, serial
    cameras["code"] = [f"{district_code}00" + "00" + "132" + "0" + f"{i:06d}" for i in cameras["id"]]
    cameras["name"] = cameras["owner"].map({
        "traffic_police": "交警卡口", "police": "公安监控", "school": "校园监控",
        "hospital": "医院监控", "government": "政府监控", "mall": "商场监控",
        "enterprise": "企业监控", "residential": "小区监控",
    }) + cameras["id"].astype(str).str.zfill(5)
    octets = rng.integers(1, 255, (m, 2))
    cameras["stream_url"] = [f"rtsp://10.21.{a}.{b}:554/Streaming/Channels/101"
                             for a, b in octets]
    return cameras


def generate_sensors(buildings: pd.DataFrame, roads, wearers: pd.DataFrame,
                     rng: np.random.Generator, n: int, to_wgs84) -> pd.DataFrame:
    """Sensors of every kind; worn ones belong to `wearers` (person_id, lon, lat of home)."""
    parts = []
    for kind, (share, place, unit, low, high, _level, _spread) in SENSORS.items():
        count = int(round(share * n))
        if place == "road":
            lon, lat, _ = _road_points(roads, count, rng, to_wgs84)
            frame = pd.DataFrame({"lon": lon, "lat": lat, "building_id": None, "person_id": None})
        elif place == "worn":
            count = min(count, len(wearers))
            picked = wearers.iloc[rng.choice(len(wearers), count, replace=False)]
            frame = pd.DataFrame({"lon": picked["lon"].to_numpy(), "lat": picked["lat"].to_numpy(),
                                  "building_id": picked["building_id"].to_numpy(),
                                  "person_id": picked["person_id"].to_numpy()})
        else:
            pool = buildings if place == "any" else buildings[buildings["use"].isin(
                ["residential", "mixed"])]
            picked = pool.iloc[rng.choice(len(pool), count)]
            frame = pd.DataFrame({"lon": picked["lon"].to_numpy(), "lat": picked["lat"].to_numpy(),
                                  "building_id": picked["id"].to_numpy(), "person_id": None})
        frame["kind"] = kind
        frame["unit_of_measure"] = unit or None
        frame["low_threshold"] = low
        frame["high_threshold"] = high
        parts.append(frame)
    sensors = pd.concat(parts, ignore_index=True)
    sensors.insert(0, "id", np.arange(1, len(sensors) + 1))
    sensors["code"] = [f"IOT{i:07d}" for i in sensors["id"]]
    labels = {"gas": "燃气探测器", "smoke": "烟感", "manhole_cover": "智能井盖",
              "water_pressure": "管网压力计", "water_leak": "漏水监测", "power": "电力监测",
              "water_level": "积水监测", "wristband": "老人手环", "emergency_button": "一键通"}
    sensors["name"] = sensors["kind"].map(labels) + sensors["id"].astype(str).str.zfill(6)
    return sensors


def readings_and_status(sensors: pd.DataFrame, rng: np.random.Generator, now: datetime,
                        hours: int = 24) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Hourly readings for the last `hours` and each sensor's status and last value.

    A few sensors end in alarm (their last reading past a threshold); a few are offline and
    stopped reporting hours ago.
    """
    n = len(sensors)
    offline = rng.random(n) < 0.03
    alarming = (~offline) & (rng.random(n) < 0.004) & (sensors["kind"] != "emergency_button")
    stamps = pd.Timestamp(now).floor("h") - pd.to_timedelta(np.arange(hours)[::-1], unit="h")
    level = sensors["kind"].map({k: v[5] for k, v in SENSORS.items()}).to_numpy()
    spread = sensors["kind"].map({k: v[6] for k, v in SENSORS.items()}).to_numpy()
    values = np.abs(level[:, None] + rng.normal(0, 1, (n, hours)) * spread[:, None])
    high = sensors["high_threshold"].to_numpy(dtype=float)
    values[alarming, -1] = np.where(np.isnan(high[alarming]), 1.0, high[alarming] * 1.4)
    reported = np.ones((n, hours), dtype=bool)
    reported[offline, -6:] = False  # offline for the last six hours
    rows, cols = np.nonzero(reported)
    readings = pd.DataFrame({
        "sensor_id": sensors["id"].to_numpy()[rows], "read_at": stamps[cols],
        "value": np.round(values[rows, cols], 3),
    })
    readings = readings[sensors["kind"].to_numpy()[rows] != "emergency_button"]
    last = readings.groupby("sensor_id").last()
    status = pd.DataFrame({"id": sensors["id"]})
    status["status"] = np.where(offline, "offline", np.where(alarming, "alarm", "normal"))
    status["last_value"] = status["id"].map(last["value"])
    status["last_reading_at"] = status["id"].map(last["read_at"])
    return readings, status
