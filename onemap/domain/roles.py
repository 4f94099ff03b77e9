"""The one table of what each role may see and do; every path asks `can()`.

Scope (which district, street, community or grid a user sees) is separate: it belongs to the
user, not the role, and the database enforces it (geodata/scope.py).
"""

from __future__ import annotations

from enum import Enum


class Capability(str, Enum):
    """Things a role may be allowed to do."""

    VIEW_MAP = "view_map"                  # the one-map wall screen and overview
    VIEW_COCKPIT = "view_cockpit"          # leaders' KPIs
    REPORT_EVENT = "report_event"          # put an event in
    HANDLE_EVENT = "handle_event"          # move events through the loop
    APPROVE_EXTENSION = "approve_extension"  # 延期: give a case more time, with a reason
    SUPERVISE = "supervise"                # 督办: a notice on a case near or past its limit
    LOOKUP_PERSON = "lookup_person"        # 以房找人 / 以人找房, masked
    UNMASK_PERSON = "unmask_person"        # reveal one record, with a purpose, audited
    VIEW_SENSITIVE_TAGS = "view_sensitive_tags"
    EXPORT = "export"                      # layers and tables out, audited
    MANAGE_USERS = "manage_users"
    VIEW_AUDIT = "view_audit"


C = Capability
# role -> capabilities. Change it here and in the README's table (a test holds them equal).
ROLE_CAPABILITIES: dict[str, frozenset[Capability]] = {
    "duty_officer": frozenset({C.VIEW_MAP, C.VIEW_COCKPIT, C.REPORT_EVENT, C.HANDLE_EVENT,
                               C.APPROVE_EXTENSION, C.SUPERVISE, C.LOOKUP_PERSON,
                               C.UNMASK_PERSON}),
    "leader": frozenset({C.VIEW_MAP, C.VIEW_COCKPIT, C.SUPERVISE, C.EXPORT}),
    "analyst": frozenset({C.VIEW_MAP, C.VIEW_COCKPIT, C.LOOKUP_PERSON, C.EXPORT}),
    "grid_worker": frozenset({C.VIEW_MAP, C.REPORT_EVENT, C.HANDLE_EVENT, C.LOOKUP_PERSON,
                              C.UNMASK_PERSON, C.VIEW_SENSITIVE_TAGS}),
    "admin": frozenset({C.VIEW_MAP, C.VIEW_COCKPIT, C.EXPORT, C.MANAGE_USERS, C.VIEW_AUDIT}),
}

ROLE_NAMES = {
    "duty_officer": ("值班员", "duty officer"),
    "leader": ("领导", "leader"),
    "analyst": ("分析员", "analyst"),
    "grid_worker": ("网格员", "grid worker"),
    "admin": ("管理员", "administrator"),
}


def can(role: str, capability: Capability) -> bool:
    """Whether the role has the capability (an unknown role has none)."""
    return capability in ROLE_CAPABILITIES.get(role, frozenset())
