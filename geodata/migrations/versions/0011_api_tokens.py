"""API tokens for machine clients (the 12345 hotline, the IoT platform, a mini-program).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03

A token is a session of kind `token` of a user of its own (role and scope as any user's), so
row-level security, capabilities, revocation and the audit log work for it as for a browser:
`web_session` keeps only the token's SHA-256, and the user's name says which system holds it.
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        ALTER TABLE onemap.web_session DROP CONSTRAINT ck_web_session_kind_valid,
          ADD CONSTRAINT ck_web_session_kind_valid CHECK (kind IN ('web', 'job', 'token'));
    """)


def downgrade() -> None:
    op.execute("""
        DELETE FROM onemap.web_session WHERE kind = 'token';
        ALTER TABLE onemap.web_session DROP CONSTRAINT ck_web_session_kind_valid,
          ADD CONSTRAINT ck_web_session_kind_valid CHECK (kind IN ('web', 'job'));
    """)
