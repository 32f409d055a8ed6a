"""The real ``faqbot run`` process for the end-to-end tests, and its environment."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from fake_telegram import DEFAULT_TOKEN, FakeTelegram

from faqbot.settings import DatabaseUrl

REPO = Path(__file__).resolve().parents[2]
# The knowledge base the bot runs on: the repository's, or another (e.g. a draft) by path.
KNOWLEDGE = Path(os.environ.get("FAQBOT_E2E_KNOWLEDGE", REPO / "knowledge"))
ADMIN_ID = 900_001
PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")
"""Left out of the bot's environment (a test sets them on purpose): the fake is local."""


def bot_env(fake: FakeTelegram, data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment ``faqbot run`` gets: the fake server, a temporary data dir, one admin."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("FAQBOT_", "TELEGRAM_")) and key.lower() not in PROXY_VARIABLES
    }
    env.update(
        {
            "TELEGRAM_BOT_TOKEN": DEFAULT_TOKEN,
            "FAQBOT_TELEGRAM_BASE_URL": fake.base_url,
            "FAQBOT_DATA_DIR": str(data_dir),
            "FAQBOT_ADMIN_IDS": str(ADMIN_ID),
            "FAQBOT_SECRET": "test",
            "FAQBOT_LOG_LEVEL": "INFO",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra)
    return env


class BotProcess:
    """The real ``python -m faqbot run`` process, its output captured to a file."""

    def __init__(self, fake: FakeTelegram, workdir: Path, **extra_env: str) -> None:
        self.fake = fake
        self.workdir = workdir
        self.data_dir = workdir / "data"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = workdir / "bot.log"
        self.env = bot_env(fake, self.data_dir, **extra_env)
        self.process: subprocess.Popen[bytes] | None = None

    def start(
        self, *args: str, ready_timeout: float = 20.0, ready_log: str | None = None
    ) -> BotProcess:
        """Start ``faqbot run *args`` and wait until it long-polls getUpdates (or, with
        ``--webhook-url``, until it has set its webhook; or, with ``ready_log``, until its
        log says so: a replica standing by never polls)."""
        polls, mark = self.fake.polls_started, self.fake.mark()
        logged = len(self.output()) if self.log_path.exists() else 0
        webhook = "--webhook-url" in args
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "faqbot", "run", *args],
                cwd=self.workdir,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + ready_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(
                    f"faqbot run exited with {self.process.returncode}:\n{self.output()}"
                )
            if ready_log is not None:
                if ready_log in self.output()[logged:]:
                    return self
                time.sleep(0.05)
                continue
            set_up = any(c.ok for c in self.fake.calls_to("setWebhook", after=mark))
            if webhook and set_up and _listening(args):  # it listens just after setWebhook
                return self
            if not webhook and self.fake.polls_started > polls:
                return self
            time.sleep(0.05)
        self.kill()
        raise AssertionError(f"faqbot run never got ready for updates:\n{self.output()}")

    @contextlib.contextmanager
    def running(self, *args: str) -> Iterator[BotProcess]:
        """Started for the block, then stopped with SIGTERM, which must end it cleanly (exit 0):
        a module's one bot process."""
        self.start(*args)
        try:
            yield self
        finally:
            code = self.terminate()
        assert code == 0, self.output()[-3000:]

    def output(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    @property
    def database(self) -> Path:
        return self.data_dir / "faqbot.sqlite3"

    @property
    def location(self) -> DatabaseUrl:
        """The question log's database: ``FAQBOT_DATABASE_URL`` if set, else the file."""
        url = self.env.get("FAQBOT_DATABASE_URL")
        return DatabaseUrl("postgresql", url=url) if url else DatabaseUrl.sqlite(self.database)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def terminate(self, timeout: float = 15.0) -> int:
        """SIGTERM and wait; return the exit code (kill and fail if it hangs)."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                raise AssertionError(
                    f"faqbot run did not stop within {timeout}s of SIGTERM:\n{self.output()}"
                ) from None
        return self.process.returncode

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(5)


def _listening(args: tuple[str, ...]) -> bool:
    """Whether the webhook port given in ``args`` (if any) accepts connections on 127.0.0.1."""
    if "--port" not in args:
        return True
    port = int(args[args.index("--port") + 1])
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def copy_knowledge(target: Path) -> Path:
    """A private copy of the repository's knowledge base (for tests that break it)."""
    shutil.copytree(KNOWLEDGE, target)
    return target
