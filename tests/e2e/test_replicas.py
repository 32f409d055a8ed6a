"""Several replicas on one PostgreSQL database: real ``faqbot run`` processes against the fake
Bot API (which, like Telegram, lets one client poll at a time and answers a second with 409).

* Polling: two replicas, the poller is SIGKILLed mid-burst; the other takes over polling within
  seconds, answers what the dead one left once its claims ran out, every question is logged
  once, and the two never polled at the same moment.
* Webhooks: two replicas behind a round-robin balancer share a burst; a repeated delivery to the
  other replica is not answered again; one replica is killed mid-burst and the other answers
  what it left; a /genindlaes sent to one reloads both.
"""

from __future__ import annotations

import itertools
import json
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from balancer import Balancer
from botprocess import ADMIN_ID, BotProcess
from databases import rows
from fake_telegram import FakeTelegram

from faqbot import render
from faqbot.matcher import Matcher, Status
from faqbot.settings import DatabaseUrl

pytestmark = pytest.mark.e2e

Burst = dict[int, Counter[str]]
_user_ids = itertools.count(760_001)
TAKEOVER_SECONDS = 8.0
"""The poller lease (5 s) plus a standing-by replica's check (1 s), with room for load."""
FAST = {"FAQBOT_REQUEST_TIMEOUT": "1", "FAQBOT_RATE_LIMIT_PER_SECOND": "40"}


def questions(matcher: Matcher, count: int) -> list[tuple[str, str]]:
    """``count`` item questions the bot answers directly, with the answer each gets."""
    found = []
    for item in matcher.kb.items:
        result = matcher.match(item.question)
        if result.status is Status.ANSWERED:
            found.append((item.question, render.result_html(result, matcher.kb)))
        if len(found) == count:
            return found
    raise AssertionError("the knowledge base has too few directly answered questions")


def push_burst(fake: FakeTelegram, matcher: Matcher, users: int, per_user: int) -> Burst:
    """Each of ``users`` new users asks ``per_user`` questions, interleaved across users."""
    people = [FakeTelegram.user(next(_user_ids)) for _ in range(users)]
    expected: Burst = {person["id"]: Counter() for person in people}
    for question, answer in questions(matcher, per_user):
        for person in people:
            fake.send_text(question, user=person)
            expected[person["id"]][answer] += 1
    return expected


def delivered(fake: FakeTelegram, expected: Burst, after: int) -> dict[int, Counter[str]]:
    got: dict[int, Counter[str]] = {chat: Counter() for chat in expected}
    for call in fake.calls[after:]:
        if call.ok and call.method == "sendMessage" and call.chat_id in got:
            got[call.chat_id][call.text] += 1
    return got


def missing(fake: FakeTelegram, expected: Burst, after: int) -> int:
    """How many of the burst's answers have not arrived yet."""
    got = delivered(fake, expected, after)
    return sum(
        max(0, count - got[chat][text])
        for chat, wanted in expected.items()
        for text, count in wanted.items()
    )


def extra(fake: FakeTelegram, expected: Burst, after: int) -> int:
    """Answers that arrived more often than asked for (duplicates)."""
    got = delivered(fake, expected, after)
    return sum(
        max(0, got[chat][text] - count)
        for chat, wanted in expected.items()
        for text, count in wanted.items()
    )


def wait_until(predicate, timeout: float, what: str) -> float:
    """Wait for ``predicate``; return how long it took."""
    started = time.monotonic()
    while not predicate():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)
    return time.monotonic() - started


def assert_logged_once_and_inbox_clean(location: DatabaseUrl, asked: int) -> None:
    """Every question has its row, once (a reply is sent just before its row commits: the
    last rows are waited for), and the inbox holds nothing pending and no update text."""
    wait_until(
        lambda: rows(location, "SELECT COUNT(*) FROM questions")[0][0] >= asked,
        10,
        "every row in the question log",
    )
    assert rows(location, "SELECT COUNT(*) FROM questions") == [(asked,)]
    assert rows(location, "SELECT COUNT(*) - COUNT(done_at), COUNT(payload) FROM inbox") == [(0, 0)]


def assert_never_polled_at_once(fake: FakeTelegram) -> None:
    """No split brain: no getUpdates was ever answered 409 (a newer one from another client
    ends a waiting one), and no two were in progress at the same moment."""
    polls = fake.calls_to("getUpdates")
    assert polls
    assert [call for call in polls if call.status == 409] == []
    assert fake.overlapping_polls() == []


PASSWORD = "pw-never-logged"
"""The test server trusts local connections, so any password is accepted: it must never
appear in a replica's log."""


def with_password(url: DatabaseUrl) -> str:
    return url.url.replace("://postgres@", f"://postgres:{PASSWORD}@", 1)


@pytest.fixture
def replicas(fake: FakeTelegram, tmp_path: Path, knowledge_dir: Path, postgres_url: DatabaseUrl):
    """Makes replicas of ``faqbot run`` on one PostgreSQL database; kills leftovers."""
    made: list[BotProcess] = []

    def make(name: str, **env: str) -> BotProcess:
        process = BotProcess(
            fake,
            tmp_path / name,
            FAQBOT_DATABASE_URL=with_password(postgres_url),
            FAQBOT_KNOWLEDGE_DIR=str(knowledge_dir),
            **{**FAST, **env},
        )
        made.append(process)
        return process

    try:
        yield make
    finally:
        for process in made:
            process.kill()


def test_a_standing_by_replica_takes_over_polling_when_the_poller_is_killed(
    fake: FakeTelegram, matcher: Matcher, replicas
) -> None:
    first = replicas("first").start()
    second = replicas("second").start(ready_log="standing by: another replica polls Telegram")
    mark = fake.mark()
    expected = push_burst(fake, matcher, users=20, per_user=5)
    asked = sum(sum(wanted.values()) for wanted in expected.values())
    wait_until(lambda: asked - missing(fake, expected, mark) >= 25, 20, "25 answers")
    first.kill()  # SIGKILL mid-burst: no clean-up, its claims and lease just stop
    killed = time.monotonic()
    assert missing(fake, expected, mark) > 0, "the kill came too late to test anything"

    wait_until(  # (a long poll is recorded when it is answered; its time is its start)
        lambda: any(call.time > killed for call in fake.calls_to("getUpdates")),
        TAKEOVER_SECONDS + 10,
        "the second replica to poll",
    )
    took_over = min(c.time for c in fake.calls_to("getUpdates") if c.time > killed) - killed
    answered_in = wait_until(lambda: missing(fake, expected, mark) == 0, 45, "every answer")
    duplicates = extra(fake, expected, mark)
    assert second.terminate() == 0, second.output()[-3000:]
    print(
        f"\npolling taken over {took_over:.1f} s after the kill; every answer "
        f"{answered_in:.1f} s after; {duplicates} duplicate(s)"
    )
    assert took_over < TAKEOVER_SECONDS, second.output()[-3000:]
    assert "this replica polls Telegram now" in second.output()
    assert "question log postgresql://postgres:" in second.output()  # (the log filter takes
    # user@host for an e-mail address and masks it too)
    assert PASSWORD not in first.output() + second.output()
    # A reply the killed replica had sent but not yet marked done is sent again by the
    # other: at most one per update it had in progress (32 at once).
    assert duplicates <= 32
    assert_logged_once_and_inbox_clean(second.location, asked)
    assert_never_polled_at_once(fake)


def post_update(url: str, update: dict) -> int:
    request = urllib.request.Request(url, data=json.dumps(update).encode())
    request.add_header("Content-Type", "application/json")
    request.add_header("X-Telegram-Bot-Api-Secret-Token", "s3cr3t")
    with urllib.request.urlopen(request, timeout=10) as answer:
        return int(answer.status)


@pytest.fixture
def local() -> Iterator[FakeTelegram]:
    """A fake in local mode (a webhook may be plain http on any port)."""
    server = FakeTelegram(local_mode=True).start()
    try:
        yield server
    finally:
        server.stop()


def free_ports(count: int) -> list[int]:
    import socket

    sockets = [socket.socket() for _ in range(count)]
    try:
        for probe in sockets:
            probe.bind(("127.0.0.1", 0))
        return [int(probe.getsockname()[1]) for probe in sockets]
    finally:
        for probe in sockets:
            probe.close()


def test_two_webhook_replicas_share_a_burst_and_take_over_from_a_dead_one(
    local: FakeTelegram, tmp_path: Path, knowledge_dir: Path, matcher: Matcher, postgres_url
) -> None:
    ports = free_ports(2)
    balancer = Balancer(ports).start()
    hook = balancer.url("faqbot")
    processes = [
        BotProcess(
            local,
            tmp_path / f"replica{number}",
            FAQBOT_DATABASE_URL=postgres_url.url,
            FAQBOT_KNOWLEDGE_DIR=str(knowledge_dir),
            FAQBOT_WEBHOOK_SECRET="s3cr3t",
            **FAST,
        )
        for number in range(2)
    ]
    try:
        for process, port in zip(processes, ports, strict=True):
            process.start("--webhook-url", hook, "--port", str(port), "--url-path", "faqbot")
        mark = local.mark()
        expected = push_burst(local, matcher, users=10, per_user=6)
        asked = sum(sum(wanted.values()) for wanted in expected.values())
        wait_until(lambda: missing(local, expected, mark) == 0, 30, "every answer")
        assert extra(local, expected, mark) == 0  # no crash, so exactly once
        assert_logged_once_and_inbox_clean(processes[0].location, asked)
        shares = [balancer.forwarded[port] for port in ports]
        assert sum(shares) >= asked and min(shares) >= asked // 3, shares  # round robin

        # Telegram delivers updates again (their 200 was lost), to both replicas this time:
        # stored already, so not answered again.
        for update in list(local.delivered_updates.values())[:6]:
            for port in ports:
                assert post_update(f"http://127.0.0.1:{port}/faqbot", update) == 200
        time.sleep(1.0)
        assert extra(local, expected, mark) == 0
        assert rows(processes[0].location, "SELECT COUNT(*) FROM questions") == [(asked,)]

        # /genindlaes reaches one replica; the other reloads too.
        admin = FakeTelegram.user(ADMIN_ID, "Leder")
        reloads = local.mark()
        local.send_command("genindlaes", user=admin)
        local.wait_for(lambda c: c.ok and c.chat_id == ADMIN_ID, 15, after=reloads)
        wait_until(
            lambda: (
                sum("reloaded after a reload on another replica" in p.output() for p in processes)
                == 1
            ),
            10,
            "the other replica to reload",
        )

        # One replica dies mid-burst; the other answers everything, each logged once.
        mark = local.mark()
        more = push_burst(local, matcher, users=10, per_user=4)
        wait_until(lambda: missing(local, more, mark) <= 30, 20, "10 answers")
        processes[0].kill()
        assert missing(local, more, mark) > 0, "the kill came too late to test anything"
        answered_in = wait_until(lambda: missing(local, more, mark) == 0, 45, "every answer")
        print(f"\nafter the kill every answer within {answered_in:.1f} s")
        assert extra(local, more, mark) <= 32  # what the dead one had in progress, at most
        assert_logged_once_and_inbox_clean(processes[1].location, asked + 40)
        assert processes[1].terminate() == 0, processes[1].output()[-3000:]
    finally:
        for process in processes:
            process.kill()
        balancer.stop()


def test_a_database_that_cannot_be_reached_is_one_error_sentence(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    import socket
    import subprocess
    import sys

    from botprocess import REPO, bot_env

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = bot_env(fake, tmp_path / "data")
    env["FAQBOT_DATABASE_URL"] = f"postgresql://faqbot:{PASSWORD}@127.0.0.1:{port}/faqbot"
    done = subprocess.run(
        [sys.executable, "-m", "faqbot", "run"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    output = (done.stdout + done.stderr).strip().splitlines()
    assert done.returncode == 1
    assert len(output) == 1, output
    assert output[0].startswith(
        f"Error: cannot use the PostgreSQL database postgresql://faqbot:***@127.0.0.1:{port}/"
        "faqbot (connection to server at"
    )
    assert PASSWORD not in output[0]
    assert fake.calls_to("getMe") == []  # the database is checked before Telegram
