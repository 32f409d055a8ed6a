"""Benchmark the running bot end to end: the real ``faqbot run`` process against the fake Bot API.

Run 1 (the bot's own cost, flood control raised via FAQBOT_RATE_LIMIT_PER_SECOND):
  * burst: 2,000 questions from 200 simulated users pushed at once -> replies per second;
  * steady: questions at 100 per second -> p50/p99 time from update (pushed to the server) to
    reply (the bot's sendMessage arriving at the server);
  * the bot process's peak memory (VmHWM from /proc), and a check that every question got
    exactly one reply and that every question has its row in the question log after SIGTERM.
Run 2 (default limits: 30 messages/s, 5 retries) with a 429 "Too Many Requests" injected every
200 calls: every reply must still be delivered.

With ``--database-url`` run 1 is done twice in the same run, on SQLite (the default) and on
PostgreSQL, and the two are printed side by side. The URL names a PostgreSQL server and a user
that may create databases: the bench creates a scratch database there and drops it afterwards.
``--database-url temp`` starts a throwaway server for the run (``tests/pgserver.py``; needs
Debian's postgresql package).

Everything talks only to 127.0.0.1 (or the given database server) and every wait has a deadline.

Usage: .venv/bin/python bench/bot.py [--questions 2000] [--users 200] [--rate 100]
       [--steady-questions 1000] [--flood-questions 600] [--timeout 300]
       [--database-url postgresql://USER@HOST/postgres | temp]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests" / "e2e"))
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO))

from databases import rows  # noqa: E402
from fake_telegram import DEFAULT_TOKEN, FakeTelegram  # noqa: E402

from faqbot import kb as kb_module  # noqa: E402
from faqbot.settings import DatabaseUrl  # noqa: E402

FIRST_USER_ID = 700_000


def questions(count: int, seed: int = 1) -> list[str]:
    """A deterministic mix of in-scope, out-of-scope and crisis questions from the eval set."""
    kb = kb_module.load(REPO / "knowledge")
    pool: list[str] = []
    try:
        evalset = kb_module.load_eval(REPO / "knowledge" / "eval.yaml", kb)
        pool += [q.question for q in evalset.questions]
        pool += list(evalset.out_of_scope) + list(evalset.crisis)
    except (FileNotFoundError, kb_module.InvalidKnowledgeBase):
        pass
    pool += [phrasing for item in kb.items for phrasing in item.alternates]
    rng = random.Random(seed)
    return [rng.choice(pool) for _ in range(count)]


@dataclass
class Bot:
    """The ``faqbot run`` process under test."""

    fake: FakeTelegram
    workdir: Path
    env: dict[str, str]
    process: subprocess.Popen | None = None
    peak_kb: int = 0
    log_path: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log_path = self.workdir / "bot.log"

    def start(self, timeout: float) -> None:
        mark = self.fake.mark()
        with self.log_path.open("w") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "faqbot", "run"],
                env=self.env,
                cwd=self.workdir,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        # deleteWebhook is the last call before polling starts.
        self.fake.wait_for("deleteWebhook", timeout=timeout, after=mark)

    def peak_memory_kb(self) -> int:
        assert self.process is not None
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                self.peak_kb = int(line.split()[1])
        return self.peak_kb

    def cpu_seconds(self) -> float:
        """User + system CPU time the bot process has used so far."""
        assert self.process is not None
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self, timeout: float = 30) -> int:
        assert self.process is not None
        if self.process.poll() is None:
            self.peak_memory_kb()
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
            return -9

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")


def env_for(fake: FakeTelegram, data_dir: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("FAQBOT_", "TELEGRAM_")) and not k.lower().endswith("_proxy")
    }
    env.update(
        TELEGRAM_BOT_TOKEN=DEFAULT_TOKEN,
        FAQBOT_TELEGRAM_BASE_URL=fake.base_url,
        FAQBOT_DATA_DIR=str(data_dir),
        FAQBOT_KNOWLEDGE_DIR=str(REPO / "knowledge"),
        FAQBOT_SECRET="bench",
        FAQBOT_LOG_LEVEL="WARNING",
        PYTHONPATH=str(REPO),
    )
    env.update(extra)
    return env


@dataclass
class Phase:
    """Questions pushed in one phase, by chat, with the time each was pushed."""

    pushed: dict[int, list[float]] = field(default_factory=lambda: defaultdict(list))
    count: int = 0
    mark: int = 0


def push(fake: FakeTelegram, phase: Phase, user_id: int, text: str) -> None:
    user = {"id": user_id, "is_bot": False, "first_name": f"U{user_id}", "language_code": "da"}
    phase.pushed[user_id].append(time.monotonic())
    fake.send_text(text, user=user)
    phase.count += 1


def replies_since(fake: FakeTelegram, mark: int) -> list:
    return [call for call in fake.calls[mark:] if call.method.lower() == "sendmessage" and call.ok]


def wait_for_replies(fake: FakeTelegram, mark: int, expected: int, deadline: float) -> list:
    while True:
        replies = replies_since(fake, mark)
        if len(replies) >= expected or time.monotonic() > deadline:
            return replies
        time.sleep(0.02)


def latencies(phase: Phase, replies: list) -> list[float]:
    """Update->reply times in ms, pairing each chat's questions and replies in order."""
    by_chat: dict[int, list[float]] = defaultdict(list)
    for call in replies:
        by_chat[call.chat_id].append(call.time)
    result = []
    for chat, pushed in phase.pushed.items():
        for asked, answered in zip(pushed, sorted(by_chat.get(chat, [])), strict=False):
            result.append((answered - asked) * 1000)
    return result


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def every_chat_answered(phase: Phase, replies: list) -> bool:
    counts: dict[int, int] = defaultdict(int)
    for call in replies:
        counts[call.chat_id] += 1
    return all(counts[chat] == len(pushed) for chat, pushed in phase.pushed.items())


def logged_rows(data_dir: Path, database_url: str | None = None) -> int:
    location = (
        DatabaseUrl("postgresql", url=database_url)
        if database_url
        else DatabaseUrl.sqlite(data_dir / "faqbot.sqlite3")
    )
    return int(rows(location, "SELECT COUNT(*) FROM questions")[0][0])


def run_main(
    args: argparse.Namespace, texts: list[str], deadline: float, database_url: str | None = None
) -> dict[str, object]:
    """Run 1: raised flood limits; burst throughput, steady latency, memory, completeness.
    ``database_url``: the question log in that PostgreSQL database instead of SQLite."""
    results: dict[str, object] = {}
    with FakeTelegram() as fake, tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "data"
        env = env_for(fake, data_dir, FAQBOT_RATE_LIMIT_PER_SECOND="100000")
        if database_url:
            env["FAQBOT_DATABASE_URL"] = database_url
        bot = Bot(fake, Path(tmp), env)
        bot.start(timeout=60)
        try:
            results["startup_memory_mb"] = round(bot.peak_memory_kb() / 1024, 1)
            users = [FIRST_USER_ID + n for n in range(args.users)]
            # Warm-up (first requests open connections): not measured.
            warm = Phase(mark=fake.mark())
            for n in range(20):
                push(fake, warm, users[n % len(users)], texts[n])
            wait_for_replies(fake, warm.mark, warm.count, deadline)

            burst = Phase(mark=fake.mark())
            cpu_before, own_before = bot.cpu_seconds(), time.process_time()
            started = time.monotonic()
            for n, text in enumerate(texts[: args.questions]):
                push(fake, burst, users[n % len(users)], text)
            pushed_in = time.monotonic() - started
            replies = wait_for_replies(fake, burst.mark, burst.count, deadline)
            burst_cpu = bot.cpu_seconds() - cpu_before
            server_cpu = time.process_time() - own_before
            last = max((call.time for call in replies), default=started)
            elapsed = last - started
            burst_lat = latencies(burst, replies)
            results.update(
                burst_questions=burst.count,
                burst_replies=len(replies),
                burst_push_seconds=round(pushed_in, 3),
                burst_seconds=round(elapsed, 3),
                burst_replies_per_second=round(len(replies) / elapsed, 1) if elapsed else 0,
                burst_bot_cpu_ms_per_reply=round(burst_cpu * 1000 / max(1, len(replies)), 2),
                burst_server_cpu_ms_per_reply=round(server_cpu * 1000 / max(1, len(replies)), 2),
                burst_p50_ms=round(percentile(burst_lat, 50), 1),
                burst_p99_ms=round(percentile(burst_lat, 99), 1),
                burst_every_reply=every_chat_answered(burst, replies)
                and len(replies) == burst.count,
            )

            steady = Phase(mark=fake.mark())
            interval = 1 / args.rate
            begin = time.monotonic()
            for n in range(args.steady_questions):
                target = begin + n * interval
                pause = target - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
                push(fake, steady, users[n % len(users)], texts[n % len(texts)])
            replies = wait_for_replies(fake, steady.mark, steady.count, deadline)
            steady_lat = latencies(steady, replies)
            results.update(
                steady_rate=args.rate,
                steady_questions=steady.count,
                steady_replies=len(replies),
                steady_p50_ms=round(percentile(steady_lat, 50), 1),
                steady_p99_ms=round(percentile(steady_lat, 99), 1),
                steady_max_ms=round(max(steady_lat, default=float("nan")), 1),
                steady_every_reply=every_chat_answered(steady, replies)
                and len(replies) == steady.count,
            )
            results["peak_memory_mb"] = round(bot.peak_memory_kb() / 1024, 1)
        finally:
            code = bot.stop()
        asked = warm.count + burst.count + steady.count
        logged = logged_rows(data_dir, database_url)
        log = bot.log_text()
        results.update(
            exit_code=code,
            questions_asked=asked,
            log_rows=logged,
            every_log_row=logged == asked,
            errors_in_bot_log=sum("ERROR" in line for line in log.splitlines()),
            token_in_bot_log=DEFAULT_TOKEN in log,
        )
    return results


def run_flood(args: argparse.Namespace, texts: list[str], deadline: float) -> dict[str, object]:
    """Run 2: default limits, a 429 (retry_after=1) every 200 calls; nothing may be lost."""
    with FakeTelegram() as fake, tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "data"
        bot = Bot(fake, Path(tmp), env_for(fake, data_dir))
        bot.start(timeout=60)
        try:
            fake.fail_every(200, status=429, retry_after=1)
            phase = Phase(mark=fake.mark())
            started = time.monotonic()
            for n in range(args.flood_questions):
                push(fake, phase, FIRST_USER_ID + n % args.users, texts[n % len(texts)])
            replies = wait_for_replies(fake, phase.mark, phase.count, deadline)
            elapsed = max((call.time for call in replies), default=started) - started
            refused = sum(1 for call in fake.calls[phase.mark :] if call.status == 429)
        finally:
            code = bot.stop()
        logged = logged_rows(data_dir)
        return dict(
            flood_questions=phase.count,
            flood_replies=len(replies),
            flood_429s=refused,
            flood_seconds=round(elapsed, 1),
            flood_replies_per_second=round(len(replies) / elapsed, 1) if elapsed else 0,
            flood_every_reply=every_chat_answered(phase, replies) and len(replies) == phase.count,
            flood_log_rows=logged,
            flood_exit_code=code,
        )


@contextlib.contextmanager
def scratch_database(server: str) -> Iterator[str]:
    """A new, empty database on the PostgreSQL server ``server`` (or on a throwaway server for
    ``temp``), dropped afterwards; its URL."""
    import psycopg

    temporary = None
    if server == "temp":
        from pgserver import PostgresServer, find_bindir

        bindir, reason = find_bindir()
        if bindir is None:
            raise SystemExit(f"--database-url temp: {reason}")
        temporary = PostgresServer(bindir).start()
        server = temporary.url()
    name = f"faqbot_bench_{os.getpid()}"
    parts = urlsplit(server)
    url = urlunsplit(parts._replace(path=f"/{name}"))
    try:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f"CREATE DATABASE {name}")  # type: ignore[arg-type]
        try:
            yield url
        finally:
            with psycopg.connect(server, autocommit=True) as admin:
                admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")  # type: ignore[arg-type]
    finally:
        if temporary is not None:
            temporary.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=2000, help="burst size (2000)")
    parser.add_argument("--users", type=int, default=200, help="simulated users (200)")
    parser.add_argument("--rate", type=float, default=100, help="steady questions/s (100)")
    parser.add_argument("--steady-questions", type=int, default=1000, help="steady phase size")
    parser.add_argument("--flood-questions", type=int, default=600, help="run 2 size (600)")
    parser.add_argument("--timeout", type=float, default=300, help="overall limit in seconds")
    parser.add_argument("--skip-flood", action="store_true", help="only run 1")
    parser.add_argument(
        "--database-url",
        default=None,
        metavar="URL",
        help="also run 1 on PostgreSQL: a server URL whose user may create a scratch database, "
        "or 'temp' for a throwaway server",
    )
    args = parser.parse_args(argv)
    deadline = time.monotonic() + args.timeout
    texts = questions(max(args.questions, args.steady_questions, args.flood_questions))

    results = run_main(args, texts, deadline)
    postgres: dict[str, object] = {}
    if args.database_url:
        with scratch_database(args.database_url) as url:
            postgres = run_main(args, texts, deadline, url)
    if not args.skip_flood:
        results.update(run_flood(args, texts, deadline))
    width = max(len(key) for key in results)
    if postgres:
        print(f"{'':<{width}}  {'SQLite':>12}  {'PostgreSQL':>12}")
        for key, value in results.items():
            print(f"{key:<{width}}  {value!s:>12}  {postgres.get(key, '')!s:>12}")
    else:
        for key, value in results.items():
            print(f"{key:<{width}}  {value}")
    checks = ("burst_every_reply", "steady_every_reply", "every_log_row", "flood_every_reply")
    ok = all(
        outcome.get(key, True) and not outcome.get("token_in_bot_log")
        for outcome in (results, postgres)
        for key in checks
    )
    print("OK" if ok else "FAILED: a reply or a log row is missing, or the token leaked")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
