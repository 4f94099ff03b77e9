"""OneMap's tables as SQLAlchemy 2 + GeoAlchemy2 models (schema `onemap`, SRID 4326)."""

from .access import AppUser, AuditLog, RateCounter, Role, WebSession
from .admin import Community, District, Grid, Piece, Street
from .appraisal import AppraisalScheme, AppraisalSnapshot
from .base import SRID, Base
from .derived import AdminUnitStat, BuildingStat, LiveClock, NamePinyin
from .devices import Camera, Sensor, SensorAlarm, SensorReading
from .events import Event, EventCategory, EventHistory, EventStageLimit
from .exports import ExportJob
from .housing import Building, Floor, Household, Unit
from .people import Person, PersonHousehold, PersonSensitiveTag, PersonTag, TagKind
from .places import Enterprise, KeyPlace
from .staff import Department, Staff

__all__ = [
    "SRID", "Base", "AppUser", "AuditLog", "Role", "Community", "District", "Grid", "Piece",
    "Street", "Camera", "Sensor", "SensorAlarm", "SensorReading", "Event", "EventCategory",
    "EventHistory", "EventStageLimit", "Building", "Floor", "Household", "Unit", "Person",
    "PersonHousehold",
    "PersonSensitiveTag", "PersonTag", "TagKind", "Enterprise", "KeyPlace", "Department", "Staff",
    "AdminUnitStat", "BuildingStat", "LiveClock", "NamePinyin", "RateCounter", "WebSession",
    "AppraisalScheme", "AppraisalSnapshot", "ExportJob",
]
