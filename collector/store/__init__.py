"""The collector's database: engine and schema (engine.py), tables (models.py), and one store
per concept (tickets.py, tokens.py, inventory.py), all on one async SQLAlchemy engine.

SQLite (a file in WAL mode) by default, PostgreSQL through asyncpg when several collectors
share one queue. The schema is owned by the Alembic migrations in `collector/migrations/`.
"""
