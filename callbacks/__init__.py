"""Dash callbacks, one module per page, beside the component ids they use."""
