"""The app imported into the test process, talking to the database a test names.

The app reads its settings once (`get_settings`, cached) and makes its engines once per
process (`get_engine`, `app_engine`, `auth_engine`, cached): that suits a server, but a test
session may import the app before it knows its database (a module that imports `app` at
collection time), and may point it at more than one. So the environment is set here, every
cache that holds a setting or a connection is emptied (engines disposed), and both are put
back afterwards, leaving the process as it was for the tests that follow.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Iterator
from contextlib import contextmanager

import pytest


def forget_connections() -> None:
    """Dispose of the process's engines and forget the settings they were made from: every
    cached function of the modules that hold them, whatever their names."""
    from sqlalchemy import Engine

    from geodata import db, scope
    from onemap.settings import get_settings

    for module in (scope, db):
        for value in list(vars(module).values()):
            if getattr(value, "__module__", None) != module.__name__ or not callable(
                    getattr(value, "cache_clear", None)):
                continue
            if value.cache_info().currsize and not inspect.signature(value).parameters:
                made = value()
                if isinstance(made, Engine):
                    made.dispose()
            value.cache_clear()
    get_settings.cache_clear()


@contextmanager
def app_pointed_at(env: dict[str, str]) -> Iterator:
    """The Flask server of app.py, its ONEMAP_* settings taken from `env` (every other
    ONEMAP_ variable of this process is hidden meanwhile)."""
    with pytest.MonkeyPatch.context() as patch:
        for name in [n for n in os.environ if n.startswith("ONEMAP_")]:
            patch.delenv(name)
        for name, value in env.items():
            if name.startswith("ONEMAP_"):
                patch.setenv(name, value)
        forget_connections()
        try:
            from app import server

            yield server
        finally:
            forget_connections()


@contextmanager
def settings_changed(**values: str) -> Iterator[None]:
    """Inside `app_pointed_at`: some settings changed for one test (those the app reads at
    each request, such as the rate limits), e.g. settings_changed(LOOKUP_RATE_LIMIT="3 per
    minute")."""
    from onemap.settings import get_settings

    with pytest.MonkeyPatch.context() as patch:
        for name, value in values.items():
            patch.setenv(f"ONEMAP_{name}", value)
        get_settings.cache_clear()
        try:
            yield
        finally:
            patch.undo()
            get_settings.cache_clear()
