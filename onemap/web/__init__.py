"""The web shell around Dash: login, sessions, request guards, security headers, health."""
