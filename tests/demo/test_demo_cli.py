"""`onemap demo --scale demo` on a fresh database: it finishes, and everything validates."""

from __future__ import annotations

import subprocess

import psycopg
import pytest

from onemap.domain import idcard, uscc
from tests.conftest import onemap_command


@pytest.fixture(scope="module")
def demo_db(pg_cluster, cli_env):
    """A fresh database holding the demo district, built by the real command; dropped after."""
    admin = pg_cluster.libpq_url("postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute("drop database if exists demo_cli with (force)")
        conn.execute("create database demo_cli")
    url = pg_cluster.libpq_url("demo_cli")
    env = dict(cli_env, ONEMAP_DATABASE_URL=url)
    migrated = subprocess.run([onemap_command(), "db", "migrate"], env=env,
                              capture_output=True, text=True)
    assert migrated.returncode == 0, migrated.stderr
    built = subprocess.run([onemap_command(), "demo", "--scale", "demo", "--seed", "7"], env=env,
                           capture_output=True, text=True, timeout=900)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    assert "hierarchy consistent" in built.stdout
    with psycopg.connect(url) as conn:
        conn.execute("set search_path = onemap, public")
        yield conn, env, built.stdout
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute("drop database demo_cli with (force)")


def scalar(conn, sql, *params):
    return conn.execute(sql, params).fetchone()[0]


def test_counts_are_the_demo_scale(demo_db):
    conn, _env, _out = demo_db
    assert scalar(conn, "select count(*) from district") == 1
    assert scalar(conn, "select count(*) from street") == 5
    assert scalar(conn, "select count(*) from community") == 40
    assert scalar(conn, "select count(*) from grid") == 150
    assert scalar(conn, "select count(*) from building") == 3000
    assert 97_000 <= scalar(conn, "select count(*) from person") <= 103_000
    assert scalar(conn, "select count(*) from event") == 30_000
    assert 650 <= scalar(conn, "select count(*) from camera") <= 700
    kinds = {r[0] for r in conn.execute("select distinct kind from sensor")}
    assert kinds == {"gas", "smoke", "manhole_cover", "water_pressure", "water_leak", "power",
                     "water_level", "wristband", "emergency_button"}
    channels = {r[0] for r in conn.execute("select distinct channel from event")}
    assert len(channels) == 12


def test_every_id_number_and_credit_code_validates(demo_db):
    conn, _env, _out = demo_db
    today = idcard.china_today()  # the demo writes birth dates in the district's day
    bad = [(i, b, g) for i, b, g in conn.execute(
        "select id_number, birth_date, gender from person where id_number is not null")
        if idcard.validate(i, today=today) or idcard.parse(i).birth_date != b
        or idcard.parse(i).sex != g]
    assert bad == []
    codes = [r[0] for r in conn.execute("select credit_code from enterprise")]
    assert len(codes) > 2000
    assert [c for c in codes if uscc.validate(c)] == []


def test_the_hierarchy_holds_and_db_check_agrees(demo_db):
    conn, env, _out = demo_db
    check = subprocess.run([onemap_command(), "db", "check"], env=env, capture_output=True,
                           text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    # every household's building sits in a grid of its community's street of the district
    assert scalar(conn, """
        select count(*) from household h join building b on b.id = h.building_id
        join grid g on g.code = b.grid_code
        where not st_covers(g.geom, st_pointonsurface(b.geom))""") == 0
    # grids are numbered in rows from north to south: grid 001 is in the northern half, and
    # the last grid in the southern half
    ends_right = scalar(conn, """
        select bool_and(first_y >= mid_y and last_y <= mid_y) from (
          select community_code,
                 (array_agg(st_y(st_centroid(geom)) order by code))[1] as first_y,
                 (array_agg(st_y(st_centroid(geom)) order by code desc))[1] as last_y,
                 percentile_cont(0.5) within group (order by st_y(st_centroid(geom))) as mid_y
          from grid group by community_code having count(*) >= 4) x""")
    assert ends_right


def test_people_look_like_a_city(demo_db):
    conn, _env, _out = demo_db
    total = scalar(conn, "select count(*) from person")
    apart = scalar(conn, """
        select count(*) from person p where not exists (
          select 1 from person_household r join person_household l
            on l.person_id = r.person_id and l.kind = 'residence' and r.kind = 'registered'
           and l.household_id = r.household_id
          where r.person_id = p.id)""")
    assert 0.13 <= apart / total <= 0.20  # 人户分离: about one in six
    elderly = scalar(conn, "select count(*) from person where birth_date < current_date - interval '60 years'")
    assert 0.18 <= elderly / total <= 0.32
    householders = scalar(conn, """
        select count(*) from (select household_id from person_household
          where kind = 'residence' and relation = 'householder'
          group by household_id having count(*) <> 1) x""")
    assert householders == 0
    assert scalar(conn, "select count(*) from person_sensitive_tag") > 0


def test_events_have_whole_lifecycles(demo_db):
    conn, _env, _out = demo_db
    closed = scalar(conn, "select count(*) from event where state = 'closed'")
    assert closed / 30_000 > 0.85
    assert scalar(conn, """select count(*) from event where state = 'closed'
        and (registered_at is null or dispatched_at is null or handled_at is null
             or verified_at is null or closed_at is null)""") == 0
    overdue = scalar(conn, "select count(*) from event where closure_kind = 'overdue'")
    assert 0.03 <= overdue / closed <= 0.15
    assert scalar(conn, "select count(*) from event where returned_count > 0") > 500
    # the history replays each closed case from report to close, in order
    broken = scalar(conn, """
        select count(*) from (
          select event_id, array_agg(to_state order by at, id) as states
          from event_history group by event_id) h
        join event e on e.id = h.event_id
        where e.state = 'closed' and (states[1] <> 'reported' or states[array_length(states, 1)] <> 'closed')""")
    assert broken == 0
    # patrol reports follow the working day: far more at 10:00 than at 03:00
    by_hour = dict(conn.execute("""select extract(hour from reported_at at time zone 'Asia/Shanghai')::int, count(*)
        from event where channel = 'inspector' group by 1""").fetchall())
    assert by_hour.get(10, 0) > 20 * by_hour.get(3, 0) + 10


def test_running_again_is_refused_and_changes_nothing(demo_db):
    conn, env, _out = demo_db
    before = scalar(conn, "select count(*) from person")
    again = subprocess.run([onemap_command(), "demo", "--scale", "demo"], env=env,
                           capture_output=True, text=True)
    assert again.returncode == 1
    assert "onemap db reset" in again.stderr
    assert scalar(conn, "select count(*) from person") == before


def test_if_empty_leaves_a_loaded_district_alone(demo_db):
    conn, env, _out = demo_db
    before = scalar(conn, "select count(*) from building")
    again = subprocess.run([onemap_command(), "demo", "--if-empty"], env=env,
                           capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    assert "nothing to do" in again.stdout
    assert scalar(conn, "select count(*) from building") == before
