"""A throwaway PostgreSQL server for the tests and the bench: ``initdb`` and ``pg_ctl`` in a
temporary directory (in memory, ``/dev/shm``, where it has room), listening on 127.0.0.1 on a
free port, its Unix socket in that directory.

PostgreSQL refuses to run as root; as root (CI) the server runs as the unprivileged ``nobody``.
It is tuned for tests only (no fsync: a crash of the machine may lose it, which a test server
may). ``find_bindir`` says where the binaries are, or why there are none (the tests then skip
with that reason).
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

SUPERUSER = "postgres"
TEMPLATE = "faqbot_template"
UNPRIVILEGED = "nobody"
BINARIES = ("initdb", "pg_ctl", "postgres")


def find_bindir() -> tuple[Path | None, str]:
    """The directory with ``initdb``, ``pg_ctl`` and ``postgres``, or None and the reason."""
    candidates: list[Path] = []
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(os.path.realpath(on_path)).parent)
    versions = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"),
        key=lambda path: int(Path(path).parent.name) if Path(path).parent.name.isdigit() else 0,
        reverse=True,
    )
    candidates += [Path(path) for path in versions]
    for directory in candidates:
        if all((directory / binary).is_file() for binary in BINARIES):
            return directory, ""
    return None, (
        "PostgreSQL is not installed (no initdb, pg_ctl and postgres on PATH or under "
        "/usr/lib/postgresql/*/bin); install Debian's postgresql package to run these tests"
    )


MEMORY_DIRECTORY = Path("/dev/shm")
MEMORY_NEEDED = 2 << 30
"""Bytes free in ``MEMORY_DIRECTORY`` before the server's files go there: every test gets its own
database, a copy of several megabytes, which on a busy disk takes ten times as long."""


def memory_directory() -> str | None:
    """A memory-backed directory for the server's files when there is room, else None (the
    usual temporary directory)."""
    try:
        usable = os.access(MEMORY_DIRECTORY, os.W_OK | os.X_OK)
        if usable and shutil.disk_usage(MEMORY_DIRECTORY).free >= MEMORY_NEEDED:
            return str(MEMORY_DIRECTORY)
    except OSError:
        pass
    return None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class PostgresServer:
    """One PostgreSQL server in a temporary directory; ``start``, ``new_database``, ``stop``."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="faqbot-pg-", dir=memory_directory()))
        self.data = self.root / "data"
        self.port = free_port()
        self._user = UNPRIVILEGED if os.geteuid() == 0 else None
        self._databases = 0

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def _run(self, *command: str, timeout: float = 60) -> None:
        done = subprocess.run(
            [str(self.bindir / command[0]), *command[1:]],
            user=self._user,
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=self.root,
        )
        if done.returncode != 0:
            raise RuntimeError(f"{command[0]} failed ({done.returncode}): {done.stderr.strip()}")

    def start(self) -> PostgresServer:
        if self._user is not None:
            shutil.chown(self.root, self._user)
        os.chmod(self.root, 0o700)
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            SUPERUSER,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
        )
        options = " ".join(
            [
                "-c listen_addresses=127.0.0.1",
                f"-c port={self.port}",
                f"-c unix_socket_directories={self.root}",
                "-c fsync=off",
                "-c synchronous_commit=off",
                "-c full_page_writes=off",
                "-c max_connections=300",
                "-c shared_buffers=32MB",
            ]
        )
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.root / "server.log"),
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "start",
        )
        self._wait_ready()
        return self

    def _wait_ready(self, timeout: float = 30) -> None:
        import psycopg

        deadline = time.monotonic() + timeout
        while True:
            try:
                with psycopg.connect(self.url(), autocommit=True, connect_timeout=2):
                    return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def create_template(self) -> None:
        """The empty template every test database is copied from."""
        self.execute(f"CREATE DATABASE {TEMPLATE}")

    def new_database(self, prefix: str = "test") -> str:
        """A fresh, empty database (a copy of the template); its URL."""
        self._databases += 1
        name = f"{prefix}_{os.getpid()}_{self._databases}"
        self.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE} STRATEGY FILE_COPY")
        return self.url(name)

    def execute(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as connection:
            connection.execute(sql)  # type: ignore[arg-type]

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)
