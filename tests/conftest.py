"""Fixtures shared by the whole suite: the question log's two databases.

``log_location`` runs a test against SQLite and against PostgreSQL. The PostgreSQL server is
started once per session (``tests/pgserver.py``: initdb and pg_ctl in a temporary directory);
each test gets a fresh database copied from an empty template. Where PostgreSQL is not
installed those tests are skipped, with the reason in the summary; a server that is installed
but does not start is an error.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pgserver import PostgresServer, find_bindir

from faqbot import kb
from faqbot.matcher import Matcher
from faqbot.settings import DatabaseUrl


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    bindir, reason = find_bindir()
    if bindir is None:
        pytest.skip(reason)
    server = PostgresServer(bindir).start()
    try:
        server.create_template()
        yield server
    finally:
        server.stop()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> DatabaseUrl:
    """A fresh, empty PostgreSQL database."""
    return DatabaseUrl("postgresql", url=postgres_server.new_database())


@pytest.fixture(params=["sqlite", "postgresql"])
def log_location(request: pytest.FixtureRequest, tmp_path: Path) -> DatabaseUrl:
    """Where a test's question log lives: a new SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        return DatabaseUrl.sqlite(tmp_path / "data" / "faqbot.sqlite3")
    url: DatabaseUrl = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture(scope="session")
def real() -> Matcher:
    """The matcher over the real knowledge base, built once per test process (no test changes
    it)."""
    return Matcher(kb.load(Path(__file__).resolve().parent.parent / "knowledge"))
