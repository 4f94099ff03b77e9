"""Alembic environment: OneMap's schema, with GeoAlchemy2's helpers for spatial columns."""

from alembic import context
from geoalchemy2 import alembic_helpers
from sqlalchemy import text

from geodata.db import SCHEMA, make_engine
from geodata.models import Base

config = context.config


def _include_object(obj, name, type_, reflected, compare_to):
    # only our schema is managed: PostGIS's tables live in public, Alembic's own is not a model
    if type_ == "table" and (obj.schema != SCHEMA or name == "alembic_version"):
        return False
    return alembic_helpers.include_object(obj, name, type_, reflected, compare_to)


def run_migrations_online() -> None:
    """Run migrations on a live connection (the only mode OneMap uses)."""
    engine = make_engine(config.get_main_option("sqlalchemy.url"))
    with engine.connect() as connection:
        connection.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))
        connection.execute(text(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}"))
        connection.commit()
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            version_table_schema=SCHEMA,
            include_schemas=True,
            include_object=_include_object,
            process_revision_directives=alembic_helpers.writer,
            render_item=alembic_helpers.render_item,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()
