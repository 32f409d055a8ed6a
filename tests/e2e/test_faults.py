"""Every accepted question gets its answer: the real ``faqbot run`` process against the fake Bot
API injecting the faults an operator meets in production (a proxy in between, 5xx answers, reset
and hanging connections, an outage, a SIGKILL mid-burst, a SIGTERM with a backlog, a full
disk), and every start-up failure as its one ``Error:`` sentence.

Expected answers are computed in-process from the same knowledge base with the same matcher and
renderer, as in ``test_conversations.py``.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from botprocess import REPO, BotProcess, bot_env
from counting_proxy import CountingProxy
from fake_telegram import Call, FakeTelegram

from faqbot import render
from faqbot.bot import texts
from faqbot.matcher import Matcher, Result, Status
from faqbot.questionlog import open_log
from faqbot.settings import Settings

pytestmark = pytest.mark.e2e

REPLY_TIMEOUT = 15.0
FAST_TIMEOUT = {"FAQBOT_REQUEST_TIMEOUT": "1"}  # a hanging request is given up after 1 s
_user_ids = itertools.count(710_001)


def new_user() -> dict:
    return FakeTelegram.user(next(_user_ids))


def answered_questions(matcher: Matcher, count: int) -> list[tuple[str, Result]]:
    """``count`` questions the bot answers directly (item questions), with their results."""
    found = []
    for item in matcher.kb.items:
        result = matcher.match(item.question)
        if result.status is Status.ANSWERED:
            found.append((item.question, result))
        if len(found) == count:
            return found
    raise AssertionError("the knowledge base has too few directly answered questions")


def replies(server: FakeTelegram, chat_id: int, after: int = 0) -> list[Call]:
    """The bot's delivered messages to one chat, in the order they arrived."""
    return sorted(
        (
            c
            for c in server.calls[after:]
            if c.ok and c.method == "sendMessage" and c.chat_id == chat_id
        ),
        key=lambda c: c.time,
    )


def attempts(server: FakeTelegram, method: str, chat_id: int, after: int) -> list[int]:
    """The HTTP status of every attempt of ``method`` for one chat (0: connection dropped)."""
    calls = [c for c in server.calls_to(method, after=after) if c.chat_id == chat_id]
    return [c.status for c in sorted(calls, key=lambda c: c.time)]


def wait_until(predicate, timeout: float, what: str, interval: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def db_rows(database: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(database) as db:
        return db.execute(sql).fetchall()


# --- transient failures on replies ---------------------------------------------------------------


@pytest.fixture(scope="module")
def proxy() -> Iterator[CountingProxy]:
    counting = CountingProxy().start()
    try:
        yield counting
    finally:
        counting.stop()


@pytest.fixture(scope="module")
def bot(
    server: FakeTelegram,
    proxy: CountingProxy,
    knowledge_dir: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[BotProcess]:
    """One ``faqbot run`` for the fault cases: 3 retries, requests given up after 1 s, and
    the proxy from the environment, as on a hospital network."""
    with BotProcess(
        server,
        tmp_path_factory.mktemp("faults"),
        FAQBOT_KNOWLEDGE_DIR=str(knowledge_dir),
        HTTP_PROXY=proxy.url,
        **FAST_TIMEOUT,
    ).running() as process:
        yield process


def assert_all_through(proxy: CountingProxy, server: FakeTelegram) -> None:
    """Every call the fake has answered came through the proxy (none went around it)."""
    finished = Counter(c.method for c in server.calls)
    assert {"getMe", "getUpdates", "sendMessage"} <= set(finished)
    for method, count in finished.items():
        assert proxy.count(method) >= count, (method, proxy.counts, finished)


def test_every_request_goes_through_the_proxy_from_the_environment(
    server: FakeTelegram, bot: BotProcess, proxy: CountingProxy, matcher: Matcher
) -> None:
    user = new_user()
    (question, result), *_ = answered_questions(matcher, 1)
    mark = server.mark()
    server.send_text(question, user=user)
    server.wait_for(lambda c: c.ok and c.chat_id == user["id"], REPLY_TIMEOUT, after=mark)
    assert replies(server, user["id"], mark)[0].text == render.result_html(result, matcher.kb)
    assert_all_through(proxy, server)


def inject(server: FakeTelegram, fault: str) -> None:
    match fault:
        case "one 500":
            server.fail_next(500, method="sendMessage")
        case "two 502":
            server.fail_next(502, method="sendMessage", count=2)
        case "503, 504, 500":
            server.fail_next(503, method="sendMessage")
            server.fail_next(504, method="sendMessage")
            server.fail_next(500, method="sendMessage")
        case "a reset":
            server.reset_next(method="sendMessage")
        case "a hang":
            server.hang_next(2.0, method="sendMessage")
        case "a hang Telegram carried out":
            server.hang_next(2.0, method="sendMessage", deliver=True)
        case _:
            raise AssertionError(fault)


@pytest.mark.parametrize(
    ("fault", "statuses", "answers"),
    [
        ("one 500", [500, 200], 1),
        ("two 502", [502, 502, 200], 1),
        ("503, 504, 500", [503, 504, 500, 200], 1),
        ("a reset", [0, 200], 1),
        ("a hang", [0, 200], 1),
        ("a hang Telegram carried out", [200, 200], 2),  # a duplicate, never a loss
    ],
)
def test_a_transient_failure_on_the_answer_is_retried_and_the_answer_arrives(
    server: FakeTelegram,
    bot: BotProcess,
    matcher: Matcher,
    fault: str,
    statuses: list[int],
    answers: int,
) -> None:
    user = new_user()
    (question, result), *_ = answered_questions(matcher, 1)
    mark = server.mark()
    inject(server, fault)
    server.send_text(question, user=user)
    wait_until(
        lambda: len(attempts(server, "sendMessage", user["id"], mark)) >= len(statuses),
        REPLY_TIMEOUT,
        f"{len(statuses)} attempts",
    )
    time.sleep(1.0)  # nothing more may come: no apology, no extra copy
    assert attempts(server, "sendMessage", user["id"], mark) == statuses
    delivered = replies(server, user["id"], mark)
    assert [c.text for c in delivered] == [render.result_html(result, matcher.kb)] * answers
    server.clear_failures()


def test_a_4xx_on_the_answer_is_not_retried(
    server: FakeTelegram, bot: BotProcess, matcher: Matcher
) -> None:
    user = new_user()
    (question, _), *_ = answered_questions(matcher, 1)
    mark = server.mark()
    server.fail_next(400, method="sendMessage")
    server.send_text(question, user=user)
    wait_until(lambda: replies(server, user["id"], mark), REPLY_TIMEOUT, "the apology")
    time.sleep(1.0)
    assert attempts(server, "sendMessage", user["id"], mark) == [400, 200]
    assert [c.text for c in replies(server, user["id"], mark)] == [texts.ERROR]


def test_a_transient_failure_on_an_edit_is_retried(server: FakeTelegram, bot: BotProcess) -> None:
    user = new_user()
    mark = server.mark()
    server.send_text("/emner", user=user)
    topics = server.wait_for(lambda c: c.ok and c.chat_id == user["id"], REPLY_TIMEOUT, after=mark)
    category = next(b for b in topics.buttons() if "callback_data" in b)
    mark = server.mark()
    server.fail_next(502, method="editMessageText")
    server.press_button(topics.result, user=user, data=category["callback_data"])
    wait_until(
        lambda: 200 in attempts(server, "editMessageText", user["id"], mark),
        REPLY_TIMEOUT,
        "the edit",
    )
    assert attempts(server, "editMessageText", user["id"], mark) == [502, 200]
    assert server.calls_to("sendMessage", after=mark) == []  # no apology
    assert server.unanswered_callback_queries() == []


# --- crash, restart, shutdown ---------------------------------------------------------------------


Burst = dict[int, Counter[str]]
"""What each chat asked for: the expected answer texts, with how often each."""


def push_burst(
    fake: FakeTelegram, matcher: Matcher, users: list[dict], per_user: int
) -> tuple[Burst, int]:
    """Each user asks ``per_user`` different questions, interleaved across users; return the
    answers each chat must get and how many questions were asked."""
    questions = answered_questions(matcher, per_user)
    expected: Burst = {user["id"]: Counter() for user in users}
    for question, result in questions:
        for user in users:
            fake.send_text(question, user=user)
            expected[user["id"]][render.result_html(result, matcher.kb)] += 1
    return expected, len(questions) * len(users)


def unanswered(fake: FakeTelegram, expected: Burst, after: int) -> int:
    """How many of the burst's questions have not had their answer yet."""
    delivered: dict[int, Counter[str]] = {chat: Counter() for chat in expected}
    for call in fake.calls[after:]:
        if call.ok and call.method == "sendMessage" and call.chat_id in delivered:
            delivered[call.chat_id][call.text] += 1
    return sum(
        max(0, count - delivered[chat][text])
        for chat, wanted in expected.items()
        for text, count in wanted.items()
    )


def sent_count(fake: FakeTelegram, after: int) -> int:
    return sum(1 for c in fake.calls[after:] if c.ok and c.method == "sendMessage")


def assert_logged_once_and_inbox_clean(database: Path, questions: int) -> None:
    assert db_rows(database, "SELECT COUNT(*) FROM questions") == [(questions,)]
    pending, payloads = db_rows(
        database, "SELECT COUNT(*) - COUNT(done_at), COUNT(payload) FROM inbox"
    )[0]
    assert (pending, payloads) == (0, 0)  # nothing waiting, no update text kept


def test_sigkill_mid_burst_then_restart_answers_every_question_and_logs_each_once(
    fake: FakeTelegram, tmp_path: Path, knowledge_dir: Path, matcher: Matcher
) -> None:
    """Then, with Telegram down (every request fails, getUpdates too) while a reply is being
    retried, SIGTERM still stops the bot at once and the question stays in the inbox."""
    env = {
        "FAQBOT_KNOWLEDGE_DIR": str(knowledge_dir),
        "FAQBOT_RATE_LIMIT_PER_SECOND": "40",
        **FAST_TIMEOUT,
    }
    first = BotProcess(fake, tmp_path, **env).start()
    users = [new_user() for _ in range(20)]
    mark = fake.mark()
    expected, asked = push_burst(fake, matcher, users, per_user=10)
    wait_until(lambda: sent_count(fake, mark) >= 40, REPLY_TIMEOUT, "40 answers")
    first.kill()  # SIGKILL: no clean-up of any kind
    assert unanswered(fake, expected, mark) > 0, "the kill came too late to test anything"

    second = BotProcess(fake, tmp_path, **env).start()
    try:
        wait_until(
            lambda: unanswered(fake, expected, mark) == 0,
            REPLY_TIMEOUT * 2,
            "every question answered",
        )
        duplicates = sent_count(fake, mark) - asked
        late = new_user()
        outage = fake.mark()
        fake.fail_every(1, 502)
        fake.send_text(answered_questions(matcher, 1)[0][0], user=late)
        fake.wait_for(lambda c: c.chat_id == late["id"], REPLY_TIMEOUT, after=outage)
        fake.fail_every(1, 502, method="getUpdates")
        time.sleep(0.5)
    finally:
        started = time.monotonic()
        code = second.terminate()
        stopped_in = time.monotonic() - started
        fake.clear_failures()
    assert code == 0, second.output()
    assert stopped_in < 10, f"SIGTERM took {stopped_in:.1f}s"
    assert 0 <= duplicates <= 40  # at most what was in progress at the kill
    assert db_rows(second.database, "SELECT COUNT(*) FROM questions") == [(asked,)]
    # the question asked during the outage waits in the inbox for the next start
    assert db_rows(
        second.database, "SELECT COUNT(*), COUNT(payload) FROM inbox WHERE done_at IS NULL"
    ) == [(1, 1)]


def test_sigterm_with_a_backlog_of_500_stops_within_10_s_and_loses_nothing(
    fake: FakeTelegram, tmp_path: Path, knowledge_dir: Path, matcher: Matcher
) -> None:
    env = {
        "FAQBOT_KNOWLEDGE_DIR": str(knowledge_dir),
        "FAQBOT_RATE_LIMIT_PER_SECOND": "30",
        **FAST_TIMEOUT,
    }
    first = BotProcess(fake, tmp_path, **env).start()
    users = [new_user() for _ in range(50)]
    mark = fake.mark()
    expected, asked = push_burst(fake, matcher, users, per_user=10)
    wait_until(lambda: sent_count(fake, mark) >= 30, REPLY_TIMEOUT, "30 answers")
    started = time.monotonic()
    code = first.terminate(timeout=15)
    stopped_in = time.monotonic() - started
    assert code == 0, first.output()
    assert stopped_in < 10, f"SIGTERM took {stopped_in:.1f}s"
    assert unanswered(fake, expected, mark) > 400, "no backlog was left to hand back"

    env["FAQBOT_RATE_LIMIT_PER_SECOND"] = "1000"
    second = BotProcess(fake, tmp_path, **env).start()
    try:
        wait_until(
            lambda: unanswered(fake, expected, mark) == 0,
            REPLY_TIMEOUT * 3,
            "every question answered",
        )
    finally:
        assert second.terminate() == 0, second.output()
    assert_logged_once_and_inbox_clean(second.database, asked)
    duplicates = sent_count(fake, mark) - asked
    assert 0 <= duplicates <= 40  # at most what was being sent when the grace time ran out


# --- the webhook: stored before the 200, a repeated delivery answered once ----------------------


def test_a_webhook_update_delivered_twice_is_answered_once(
    tmp_path: Path, knowledge_dir: Path, matcher: Matcher, unused_port: int
) -> None:
    """Also: ``FAQBOT_PROXY_URL`` is used, and wins over the environment's proxy."""
    local = FakeTelegram(local_mode=True).start()
    proxy = CountingProxy().start()
    process = BotProcess(
        local,
        tmp_path,
        FAQBOT_KNOWLEDGE_DIR=str(knowledge_dir),
        FAQBOT_WEBHOOK_SECRET="s3cr3t",
        FAQBOT_PROXY_URL=proxy.url,
        HTTP_PROXY="http://127.0.0.1:9",  # nothing listens here
    )
    hook = f"http://127.0.0.1:{unused_port}/faqbot"
    try:
        process.start("--webhook-url", hook, "--port", str(unused_port))
        user = new_user()
        (question, result), *_ = answered_questions(matcher, 1)
        mark = local.mark()
        message = local.send_text(question, user=user)  # Telegram delivers it once...
        local.wait_for(lambda c: c.ok and c.chat_id == user["id"], REPLY_TIMEOUT, after=mark)
        delivered = {update_id for update_id, status in local.webhook_deliveries if status == 200}
        (update_id,) = delivered  # (a first attempt may have failed under load and been retried)
        update = {"update_id": update_id, "message": message}
        request = urllib.request.Request(hook, data=json.dumps(update).encode())
        request.add_header("Content-Type", "application/json")
        request.add_header("X-Telegram-Bot-Api-Secret-Token", "s3cr3t")
        with urllib.request.urlopen(request, timeout=5) as answer:  # ...and again
            assert answer.status == 200
        time.sleep(1.0)
        assert db_rows(process.database, "SELECT COUNT(*) FROM inbox") == [(1,)]
        finished = Counter(c.method for c in local.calls)
    finally:
        code = process.terminate()
        local.stop()
        proxy.stop()
    assert code == 0, process.output()
    assert {"getMe", "setWebhook", "sendMessage"} <= set(finished)
    for method, count in finished.items():
        assert proxy.count(method) >= count, (method, proxy.counts, finished)
    assert [c.text for c in replies(local, user["id"], mark)] == [
        render.result_html(result, matcher.kb)
    ]


# --- start-up failures: one Error: sentence each ------------------------------------------------


def run_once(env: dict[str, str], *prefix: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*prefix, sys.executable, "-m", "faqbot", "run"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def assert_one_error(done: subprocess.CompletedProcess, expected: str) -> None:
    output = (done.stdout + done.stderr).strip().splitlines()
    assert done.returncode == 1, done.stderr
    assert output == [f"Error: {expected}"], "\n".join(output)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_start_up_with_the_bot_api_unreachable(fake: FakeTelegram, tmp_path: Path) -> None:
    env = bot_env(fake, tmp_path / "data")
    base = f"http://127.0.0.1:{free_port()}/bot"
    env["FAQBOT_TELEGRAM_BASE_URL"] = base
    assert_one_error(
        run_once(env),
        f"cannot reach the Bot API at {base} (httpx.ConnectError: All connection attempts "
        "failed); check the network, the proxy (HTTPS_PROXY or FAQBOT_PROXY_URL) and "
        "FAQBOT_TELEGRAM_BASE_URL.",
    )


def test_start_up_with_a_bad_token(fake: FakeTelegram, tmp_path: Path) -> None:
    env = bot_env(fake, tmp_path / "data")
    env["TELEGRAM_BOT_TOKEN"] = "999:wrong"
    assert_one_error(
        run_once(env),
        "Telegram rejected TELEGRAM_BOT_TOKEN; check the token with @BotFather, and that "
        f"{fake.base_url} is a Bot API.",
    )


def test_start_up_with_a_truncated_log(fake: FakeTelegram, tmp_path: Path) -> None:
    data = tmp_path / "data"
    database = data / "faqbot.sqlite3"

    async def a_log_with_questions() -> None:
        log = await open_log(Settings(data_dir=data, secret="test"))
        for n in range(300):
            log.log_pick(question_id=f"{n:016x}", item_id="x" * 200, user_id=n)
        await log.close()

    asyncio.run(a_log_with_questions())
    content = database.read_bytes()
    database.write_bytes(content[: len(content) // 2])
    env = bot_env(fake, data)
    assert_one_error(
        run_once(env),
        f"the question log {database} is damaged (database disk image is malformed); "
        "restore it from a backup, or move it aside so faqbot starts a new, empty log.",
    )
    assert fake.calls == []  # the disk is checked before Telegram is contacted


def test_start_up_with_a_directory_where_the_log_belongs(fake: FakeTelegram, tmp_path: Path):
    database = tmp_path / "data" / "faqbot.sqlite3"
    database.mkdir(parents=True)
    assert_one_error(
        run_once(bot_env(fake, tmp_path / "data")),
        f"{database} is a directory, but faqbot keeps its question log in a file of that name; "
        "move the directory away or set FAQBOT_DATA_DIR to another directory.",
    )
    assert fake.calls == []  # the disk is checked before Telegram is contacted


@functools.cache
def can_mount_in_a_user_namespace() -> bool:
    """Whether ``unshare`` can give a process its own tmpfs (a real full or read-only disk)."""
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(
        ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c",
         "d=$(mktemp -d) && mount -t tmpfs -o size=64k tmpfs \"$d\" && umount \"$d\""],
        capture_output=True,
        timeout=10,
    )  # fmt: skip
    return probe.returncode == 0


def confined(data: Path, mount_options: str, *, fill: bool) -> tuple[str, ...]:
    """A command prefix that runs the bot with ``data`` on a tiny tmpfs of its own."""
    script = f'mount -t tmpfs -o {mount_options} tmpfs "{data}" || exit 99; '
    if fill:
        script += f'head -c 1M /dev/zero > "{data}/filler" 2>/dev/null; '
    return (
        "unshare",
        "--user",
        "--map-root-user",
        "--mount",
        "sh",
        "-c",
        script + 'exec "$@"',
        "sh",
    )


def test_start_up_with_a_full_data_directory(fake: FakeTelegram, tmp_path: Path) -> None:
    if not can_mount_in_a_user_namespace():
        pytest.skip("needs unshare with user namespaces to give the bot a full disk")
    data = tmp_path / "data"
    data.mkdir()
    assert_one_error(
        run_once(bot_env(fake, data), *confined(data, "size=64k,mode=700", fill=True)),
        f"the data directory {data} is full (database or disk is full); free space on its "
        "disk and start faqbot again.",
    )


def test_start_up_with_a_read_only_data_directory(fake: FakeTelegram, tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    env = bot_env(fake, data)
    if os.geteuid() != 0:
        data.chmod(0o500)
        prefix: tuple[str, ...] = ()
        reason = "Permission denied"
    elif can_mount_in_a_user_namespace():
        prefix = confined(data, "ro,size=64k,mode=700", fill=False)
        reason = "Read-only file system"
    else:
        pytest.skip("root ignores file modes; needs unshare for a read-only file system")
    try:
        assert_one_error(
            run_once(env, *prefix),
            f"the data directory {data} is not writable ({reason}); make it writable for the "
            "user faqbot runs as, or set FAQBOT_DATA_DIR to a writable directory.",
        )
    finally:
        data.chmod(0o700)


def test_sigterm_with_the_disk_full_and_a_vote_pending_stops_within_10_s(
    fake: FakeTelegram, tmp_path: Path, knowledge_dir: Path, matcher: Matcher
) -> None:
    """The answer's log row cannot be written any more and the vote cannot even be stored in
    the inbox (so it is not confirmed to Telegram): the writer keeps retrying, and SIGTERM must
    still end the process in time."""
    if not can_mount_in_a_user_namespace():
        pytest.skip("needs unshare with user namespaces to give the bot a disk that fills up")
    data = tmp_path / "data"
    data.mkdir()
    env = bot_env(fake, data, FAQBOT_KNOWLEDGE_DIR=str(knowledge_dir))
    log = tmp_path / "bot.log"
    mark = fake.mark()
    with log.open("wb") as output:
        process = subprocess.Popen(
            [
                *confined(data, "size=2m,mode=700", fill=False),
                sys.executable,
                "-m",
                "faqbot",
                "run",
            ],
            cwd=tmp_path,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        fake.wait_for_poll(timeout=30)
        user = new_user()
        (question, _), *_ = answered_questions(matcher, 1)
        fake.send_text(question, user=user)
        answer = fake.wait_for(
            lambda c: c.ok and c.chat_id == user["id"], REPLY_TIMEOUT, after=mark
        )
        inside = Path(f"/proc/{process.pid}/root") / str(data).lstrip("/")
        # the bot's own disk, filled up from outside its mount namespace
        with (inside / "filler").open("wb", buffering=0) as filler, pytest.raises(OSError):
            while True:
                filler.write(b"\0" * 65536)
        fake.press_button(answer.result, user=user, text="👍")  # the vote waits for the disk
        time.sleep(1.0)
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        code = process.wait(15)
        stopped_in = time.monotonic() - started
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(5)
    assert code == 0, log.read_text()
    assert stopped_in < 10, f"SIGTERM took {stopped_in:.1f}s\n{log.read_text()}"
