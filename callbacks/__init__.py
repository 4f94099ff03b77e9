"""Dash callbacks, one module per page, beside the component ids they use."""

from . import audit, desk, wall  # noqa: F401  (registers the callbacks)
