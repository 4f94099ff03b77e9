"""Dash callbacks, one module per page, beside the component ids they use."""

from . import appraisal, audit, cockpit, cockpit_panels, desk, export, lookup, wall  # noqa: F401  (registers the callbacks)
