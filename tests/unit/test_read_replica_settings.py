"""ONEMAP_READ_DATABASE_URL: which login the replica's engine uses (geodata/scope.py)."""

from __future__ import annotations

import pytest
from sqlalchemy import make_url

from geodata.scope import read_login_url
from onemap.settings import Settings

PRIMARY = "postgresql://owner:owner-pw@db1/onemap"
REPLICA = "postgresql://{}db2/onemap"


def _login(**values) -> tuple[str, str | None, bool] | None:
    found = read_login_url(Settings(_env_file=None, database_url=PRIMARY, **values))
    if found is None:
        return None
    url = make_url(found[0])
    assert (url.host, url.database) == ("db2", "onemap")
    return url.username, url.password, found[1]


def test_unset_means_no_replica():
    assert _login() is None


@pytest.mark.parametrize(("login", "expected"), [
    ("onemap_app:app-pw@", ("onemap_app", "app-pw", True)),  # logs in as the app's role
    ("owner:owner-pw@", ("owner", "owner-pw", False)),  # the owner, then SET ROLE
])
def test_a_url_naming_a_user_is_used_as_it_is(login, expected):
    assert _login(read_database_url=REPLICA.format(login)) == expected


def test_a_url_naming_nobody_borrows_the_primarys_login_of_the_app():
    assert _login(read_database_url=REPLICA.format(""),
                  app_database_url="postgresql://onemap_app:app-pw@db1/onemap") \
        == ("onemap_app", "app-pw", True)
    # without a login of the app's own, the owner's with SET ROLE, as on the primary
    assert _login(read_database_url=REPLICA.format("")) == ("owner", "owner-pw", False)


def test_only_postgresql_urls():
    with pytest.raises(ValueError, match="PostgreSQL URL"):
        Settings(_env_file=None, read_database_url="mysql://x@y/z")
