"""The live clock in shards, so concurrent writers do not queue on one row.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03

Every change to events (sensors, staff) bumped its topic's one row in `live_clock`, and held
that row's lock until the transaction committed: all intake, from every worker, went through
that row one transaction at a time, history, audit and commit included (bench/intake.py:
~75 reports/s on 2 cores, most of the time spent waiting for the lock). Each topic now has 16
rows; a connection bumps the one its backend's pid picks, and a topic's version is the sum of
its rows — still moved only by committed changes, still only ever growing, so a screen's
token works as before.
"""

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

SHARDS = 16


def _tick(where: str) -> str:
    return f"""
        CREATE OR REPLACE FUNCTION onemap.tick_live_clock() RETURNS trigger
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = onemap, pg_temp AS $$
        BEGIN
          UPDATE onemap.live_clock SET version = version + 1, changed_at = now()
           WHERE topic = TG_ARGV[0]{where};
          RETURN NULL;
        END $$;
    """


def upgrade() -> None:
    op.execute(f"""
        ALTER TABLE onemap.live_clock ADD COLUMN shard smallint NOT NULL DEFAULT 0
          CHECK (shard >= 0 AND shard < {SHARDS});
        ALTER TABLE onemap.live_clock DROP CONSTRAINT live_clock_pkey,
          ADD CONSTRAINT live_clock_pkey PRIMARY KEY (topic, shard);
        INSERT INTO onemap.live_clock (topic, shard)
          SELECT c.topic, n FROM onemap.live_clock c, generate_series(1, {SHARDS - 1}) n;
        {_tick(f" AND shard = pg_backend_pid() % {SHARDS}")}
    """)


def downgrade() -> None:
    op.execute(f"""
        UPDATE onemap.live_clock c SET version = total.version
          FROM (SELECT topic, sum(version) AS version FROM onemap.live_clock GROUP BY topic) total
         WHERE c.topic = total.topic AND c.shard = 0;
        DELETE FROM onemap.live_clock WHERE shard > 0;
        ALTER TABLE onemap.live_clock DROP CONSTRAINT live_clock_pkey,
          ADD CONSTRAINT live_clock_pkey PRIMARY KEY (topic);
        ALTER TABLE onemap.live_clock DROP COLUMN shard;
        {_tick("")}
    """)
