"""What the cockpit's and the appraisal's callbacks share: the page's right checked (refused
and audited: an empty answer), the browser's view read without trusting it, the screen's scale
for the figures, and a table as an XLSX download."""

from __future__ import annotations

import io
from datetime import datetime

import pandas as pd
from dash import dcc
from dash.exceptions import PreventUpdate

from onemap.domain.roles import Capability
from onemap.web.auth import current_scope, current_user, refused
from pages.cockpit_ids import ZONE
from pages.cockpit_url import CockpitView, view_from_url


def allowed(capability: Capability = Capability.VIEW_COCKPIT) -> None:
    """Refuse (and audit) a role without the capability: the answer is empty (204)."""
    if not current_user.is_authenticated or refused(capability):
        raise PreventUpdate


def view_of(query) -> CockpitView:
    """The browser's view, checked part by part, in the user's scope."""
    return view_from_url(query if isinstance(query, dict) else {}, current_scope().code,
                         datetime.now(ZONE).date())


def screen_scale(screen) -> float:
    """How much larger the figures' text is than at 1920 px (2 on a 4K wall, at most 2.5)."""
    return min(max(screen / 1920, 1.0), 2.5) if isinstance(screen, int | float) else 1.0


def xlsx(table: pd.DataFrame, sheet: str, filename: str) -> dict:
    """The table as an XLSX download (its column names are its headers)."""
    buffer = io.BytesIO()
    table.to_excel(buffer, index=False, sheet_name=sheet[:31])
    return dcc.send_bytes(buffer.getvalue(), filename)
