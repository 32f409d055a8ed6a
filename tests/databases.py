"""Reading a question log's database directly in tests, SQLite or PostgreSQL alike."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from faqbot.settings import DatabaseUrl
from faqbot.storage.postgres import translate


def rows(location: Path | DatabaseUrl, sql: str, parameters: tuple[Any, ...] = ()) -> list[tuple]:
    """Run ``sql`` (``?`` placeholders) on its own connection; return the rows as tuples."""
    if isinstance(location, Path) or location.path is not None:
        path = location if isinstance(location, Path) else location.path
        with sqlite3.connect(path) as db:
            return db.execute(sql, parameters).fetchall()
    import psycopg

    with psycopg.connect(location.url, autocommit=True) as db:
        cursor = db.execute(translate(sql), parameters)  # type: ignore[arg-type]
        return [tuple(row) for row in cursor.fetchall()] if cursor.description else []
