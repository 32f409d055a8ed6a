"""Fixtures for the end-to-end tests: a fresh fake Bot API server per test.

The e2e tests (marker ``e2e``; run only them with ``pytest -m e2e``, skip them with
``-m "not e2e"``) drive the real ``python -m faqbot run`` (``botprocess.py``) against the fake
Bot API (``fake_telegram.py``). They run on a copy of the repository's ``knowledge/``; set
``FAQBOT_E2E_KNOWLEDGE`` to run them on another knowledge directory (e.g. a draft).
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from fake_telegram import FakeTelegram


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
