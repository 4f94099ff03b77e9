"""The database: models, migrations, the embedded PostgreSQL server and the queries that matter."""
