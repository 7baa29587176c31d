"""The migration files build the schema the models describe, on PostgreSQL and SQLite, with
an index on every foreign key."""

from __future__ import annotations

import uuid
from pathlib import Path

import asyncpg
from tortoise.connection import get_connection
from tortoise.context import TortoiseContext
from tortoise.migrations.autodetector import MigrationAutodetector

from service import areas, db
from service.config import Settings
from tests import services

SERVICE = Path(areas.__file__).parent


async def _columns(table: str) -> set[str]:
    connection = get_connection("default")
    if connection.capabilities.dialect == "sqlite":
        rows = await connection.execute_query_dict(f'PRAGMA table_info("{table}")')
        return {row["name"] for row in rows}
    rows = await connection.execute_query_dict(
        "SELECT column_name FROM information_schema.columns WHERE table_name = $1", [table]
    )
    return {row["column_name"] for row in rows}


async def _unindexed_foreign_keys(tables: list[str]) -> list[str]:
    """Foreign-key columns that no index starts with (a lookup by the key scans the table)."""
    connection = get_connection("default")
    if connection.capabilities.dialect == "postgres":
        rows = await connection.execute_query_dict(
            """SELECT c.conrelid::regclass::text AS "table", a.attname AS "column"
            FROM pg_constraint c
            JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
            WHERE c.contype = 'f' AND NOT EXISTS (
                SELECT 1 FROM pg_index i
                WHERE i.indrelid = c.conrelid AND i.indkey[0] = c.conkey[1])"""
        )
        return sorted(f"{row['table']}.{row['column']}" for row in rows)
    missing = []
    for table in tables:
        keys = await connection.execute_query_dict(f'PRAGMA foreign_key_list("{table}")')
        leading = set()
        for index in await connection.execute_query_dict(f'PRAGMA index_list("{table}")'):
            columns = await connection.execute_query_dict(f'PRAGMA index_info("{index["name"]}")')
            leading |= {c["name"] for c in columns if c["seqno"] == 0}
        missing += [f"{table}.{key['from']}" for key in keys if key["from"] not in leading]
    return sorted(missing)


async def _assert_schema_matches_models(settings: Settings) -> None:
    # Own contexts: the app of the other tests keeps its connections meanwhile.
    async with TortoiseContext():
        await db.migrate(settings)
    async with TortoiseContext() as context:
        await context.init(config=db.tortoise_config(settings))
        assert await db.pending_migrations(settings) == []
        models = context.apps[db.APP_LABEL] if context.apps else {}
        assert models, "no models registered"
        for model in models.values():
            table = model._meta.db_table
            expected = set(model._meta.fields_db_projection.values())
            assert expected <= await _columns(table), f"{table} lacks columns"
        tables = [model._meta.db_table for model in models.values()]
        assert await _unindexed_foreign_keys(tables) == [], "index these foreign keys"
        apps = {db.APP_LABEL: db.tortoise_config(settings)["apps"][db.APP_LABEL]}
        assert context.apps is not None
        writers = await MigrationAutodetector(context.apps, apps).changes()
        assert writers == [], "models changed without a migration: run tortoise makemigrations"


class TestMigrations:
    async def test_apply_to_empty_sqlite(self, tmp_path: Path) -> None:
        settings = Settings(database_url=f"sqlite://{tmp_path / 'empty.sqlite3'}")
        await _assert_schema_matches_models(settings)

    async def test_apply_to_empty_postgresql(self) -> None:
        admin_url = services.postgres_admin_url()
        name = f"civic_migrate_{uuid.uuid4().hex[:8]}"
        admin = await asyncpg.connect(admin_url.replace("postgres://", "postgresql://", 1))
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            settings = Settings(database_url=services.with_database(admin_url, name))
            await _assert_schema_matches_models(settings)
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
            await admin.close()

    def test_every_model_module_is_configured(self) -> None:
        configured = db.tortoise_config(Settings())["apps"][db.APP_LABEL]["models"]
        on_disk = sorted(
            "service." + ".".join(path.relative_to(SERVICE).with_suffix("").parts)
            for path in SERVICE.glob("*/models.py")
        )
        assert on_disk and sorted(configured) == on_disk
