"""Fixtures for the end-to-end tests: a fresh fake Bot API server per test.

The e2e tests (marker ``e2e``; run only them with ``pytest -m e2e``, skip them with
``-m "not e2e"``) drive the real ``python -m faqbot run`` (``botprocess.py``) against the fake
Bot API (``fake_telegram.py``). They run on a copy of the repository's ``knowledge/``; set
``FAQBOT_E2E_KNOWLEDGE`` to run them on another knowledge directory (e.g. a draft).
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from botprocess import copy_knowledge
from fake_telegram import FakeTelegram

from faqbot import kb as kb_module
from faqbot.matcher import Matcher


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    """A fresh fake Bot API server for one test."""
    server = FakeTelegram().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def unused_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def server() -> Iterator[FakeTelegram]:
    """One fake Bot API server for a whole module (its bot process talks to it throughout)."""
    fake = FakeTelegram().start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture(scope="module")
def knowledge_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private copy of knowledge/, so /genindlaes can break it and others' edits can't race."""
    for attempt in range(3):  # an editor may be half-way through saving a file
        copy = copy_knowledge(tmp_path_factory.mktemp("kb") / "knowledge")
        problems = kb_module.validate(copy)
        if not problems:
            return copy
        time.sleep(1 + attempt)
    pytest.fail(
        "knowledge/ is invalid, so faqbot run would refuse it:\n" + "\n".join(map(str, problems))
    )


@pytest.fixture(scope="module")
def matcher(knowledge_dir: Path) -> Matcher:
    """The engine the module's bot runs, to know what each question should get."""
    return Matcher(kb_module.load(knowledge_dir))
