"""The audit page's table callback, called directly without its page: administrators only."""

from __future__ import annotations

from tests.support.dash_calls import check_audit_callback_answers_admins_only


def test_calling_the_callback_directly_yields_nothing_for_other_roles(app_server):
    check_audit_callback_answers_admins_only(app_server)
