"""The rhythms of a district's events: where reports come from, at which hours, about what,
where, and how long each step of the loop takes. One table for the demo's year of events
(etl/demo/events.py) and the live simulator (onemap/simulator/), so the two districts agree.

Plain numbers and numpy arrays only: importing this module does nothing else.
"""

from __future__ import annotations

import numpy as np

CHANNELS = {  # relative share of all reports
    "inspector": 0.30, "grid_worker": 0.20, "hotline_12345": 0.17, "hotline_district": 0.06,
    "resident_app": 0.06, "wechat": 0.05, "camera": 0.05, "sensor": 0.03, "media": 0.005,
    "referral": 0.015, "police": 0.02, "open311": 0.01,
}
PUBLIC = ("hotline_12345", "hotline_district", "resident_app", "wechat", "open311", "media")
FIELD = ("inspector", "grid_worker", "camera")

# reports per hour of day (0-23), before normalising: patrols keep office hours, callers
# call into the evening, the rest (sensors, referrals, the police) come at any hour
FIELD_HOURS = np.array([0, 0, 0, 0, 0, 0, 1, 3, 9, 12, 12, 9, 4, 6, 11, 12, 10, 6, 2, 1, 0.5,
                        0.3, 0, 0])
PUBLIC_HOURS = np.array([0.5, 0.3, 0.2, 0.2, 0.2, 0.5, 1.5, 4, 7, 9, 9, 8, 6, 6, 7, 7, 7, 7, 8,
                         9, 8, 6, 3, 1.2])
FLAT_HOURS = np.ones(24)

# what a sensor's alarm is a case of
SENSOR_CATEGORY = {
    "gas": "E0403", "smoke": "E0405", "manhole_cover": "C0101", "water_pressure": "E0402",
    "water_leak": "E0402", "power": "S0303", "water_level": "E0404", "wristband": "S0301",
    "emergency_button": "S0301",
}

# Categories: each leaf's catalogue weight (geodata/reference/event_categories.csv) times a
# boost. The public calls about social matters (disputes, services) three times as often;
# patrols and cameras find components and street order.
PUBLIC_BOOST = {"social": 3.0, "other": 1.0}
FIELD_BOOST = {"social": 0.4, "other": 1.2}
# a report's level: the category's default, now and then one more or less urgent
LEVEL_SHIFTS = (-1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1)

# Places: near buildings, busier uses more often, and around a few hotspots (markets, busy
# crossings); metres are the standard deviation of the offset in each direction.
USE_WEIGHTS = {"commercial": 3.0, "mixed": 2.5, "residential": 1.0, "public": 1.5,
               "industrial": 0.8}
HOTSPOTS = 25
NEAR_HOTSPOT_SHARE = 0.3
HOTSPOT_SPREAD_M = 120.0
BUILDING_SPREAD_M = 25.0

# Time limits are in working hours; calendar time is the week's ratio (168 h / 40 working h)
# except for emergencies (limits of EMERGENCY_LIMIT_HOURS or less), which run on the clock.
CALENDAR_PER_WORKING_HOUR = 168 / 40
EMERGENCY_LIMIT_HOURS = 2

# The loop's steps, in hours of calendar time.
REGISTER_PUBLIC_MEAN_H = 0.75  # exponential: an intake operator calls back, checks, registers
REGISTER_FIELD_RANGE_H = (0.03, 0.25)  # uniform: a field report is registered at once
REJECT_SHARE_PUBLIC = 0.05  # not a matter for the centre (不予立案)
REJECT_SHARE_OTHER = 0.01
DISPATCH_MEAN_H = 0.35  # exponential
ACCEPT_MEAN_H = 0.2  # exponential
EXTEND_SHARE = 0.02  # 延期
RETURN_SHARE = 0.05  # returned for rework after the check
# handling takes this share of the category's limit, lognormally spread; rework takes longer
WORK_SHARE_MEDIAN = 0.38
WORK_SHARE_SIGMA = 0.7
REWORK_FACTOR = 1.35
VERIFY_MEAN_H = 2.0  # exponential: the check on site (核查)
CLOSE_MEAN_H = 1.0  # exponential
SHELVE_SHARE = 0.01  # 挂账: cannot be done in time
