"""Benchmark the bot's memory under a stream of unique long messages (issue 14).

The real ``faqbot run`` process answers, over the fake Bot API of the end-to-end tests, many
unique messages of about 1,000 characters each (50,000 by default), each from one of many
users. Every message is new text with new words, the way a cache that keeps raw question
texts, a queue that is never drained or a per-user table would show. The bench reports the
bot's resident memory (VmRSS) after a warm-up and then every 5,000 messages, its peak (VmHWM),
and checks that every message got exactly one reply and a row in the question log.

Messages are sent with a bounded number in flight (``--window``), like a busy bot that keeps
up; the backlog case (a bot that was down and fetches everything at once) is a different
question, for the update intake.

Usage: .venv/bin/python bench/memory.py [--messages 50000] [--chars 1000] [--users 5000]
       [--window 64] [--timeout 3600]
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import sqlite3
import string
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests" / "e2e"))
sys.path.insert(0, str(REPO))

from fake_telegram import DEFAULT_TOKEN, FakeTelegram  # noqa: E402

from faqbot import kb as kb_module  # noqa: E402

FIRST_USER_ID = 500_000
SAMPLE_EVERY = 5_000
WARM_UP = 500


def vocabulary() -> list[str]:
    """Real words from the knowledge base, so messages reach the matcher's every signal."""
    kb = kb_module.load(REPO / "knowledge")
    words: set[str] = set()
    for item in kb.items:
        for text in (item.question, item.answer, *item.alternates):
            words.update(word.strip(".,;:!?()\"'«»") for word in text.split())
    return sorted(word for word in words if word)


def messages(count: int, chars: int, seed: int = 14) -> list[str]:
    """``count`` unique messages of about ``chars`` characters: real words mixed with new
    made-up words and numbers, so the texts and most of their terms were never seen before."""
    rng = random.Random(seed)
    words = vocabulary()
    letters = string.ascii_lowercase + "æøå"
    result = []
    for number in range(count):
        parts = [f"spørgsmål {number}:"]
        length = len(parts[0])
        while length < chars:
            roll = rng.random()
            if roll < 0.6:
                word = rng.choice(words)
            elif roll < 0.95:
                word = "".join(rng.choice(letters) for _ in range(rng.randint(4, 12)))
            else:
                word = str(rng.randint(0, 10**6))
            parts.append(word)
            length += len(word) + 1
        result.append(" ".join(parts)[:chars])
    return result


def memory_kb(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of a process, in KB."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0])
    return values


def start_bot(fake: FakeTelegram, workdir: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FAQBOT_", "TELEGRAM_"))}
    env.update(
        TELEGRAM_BOT_TOKEN=DEFAULT_TOKEN,
        FAQBOT_TELEGRAM_BASE_URL=fake.base_url,
        FAQBOT_DATA_DIR=str(workdir / "data"),
        FAQBOT_KNOWLEDGE_DIR=str(REPO / "knowledge"),
        FAQBOT_SECRET="bench",
        FAQBOT_LOG_LEVEL="WARNING",
        FAQBOT_RATE_LIMIT_PER_SECOND="100000",
        PYTHONPATH=str(REPO),
    )
    mark = fake.mark()
    with (workdir / "bot.log").open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "faqbot", "run"],
            env=env,
            cwd=workdir,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    fake.wait_for("deleteWebhook", timeout=120, after=mark)  # the last call before polling
    return process


class Replies:
    """Counts the bot's successful sendMessage calls as they arrive, reading each call once."""

    def __init__(self, fake: FakeTelegram) -> None:
        self.fake = fake
        self.seen = fake.mark()
        self.count = 0
        self.per_chat: dict[int, int] = {}

    def update(self) -> int:
        calls = self.fake.calls[self.seen :]
        self.seen += len(calls)
        for call in calls:
            if call.method.lower() == "sendmessage" and call.ok:
                self.count += 1
                self.per_chat[call.chat_id] = self.per_chat.get(call.chat_id, 0) + 1
        return self.count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=50_000, help="unique messages (50000)")
    parser.add_argument("--chars", type=int, default=1000, help="characters each (1000)")
    parser.add_argument("--users", type=int, default=5000, help="simulated users (5000)")
    parser.add_argument("--window", type=int, default=64, help="messages in flight (64)")
    parser.add_argument("--timeout", type=float, default=3600, help="overall limit in seconds")
    args = parser.parse_args(argv)
    texts = messages(WARM_UP + args.messages, args.chars)
    assert len(set(texts)) == len(texts)
    deadline = time.monotonic() + args.timeout
    users = [
        {"id": FIRST_USER_ID + n, "is_bot": False, "first_name": f"U{n}", "language_code": "da"}
        for n in range(args.users)
    ]

    print(f"messages: {args.messages} unique x {args.chars} chars from {args.users} users")
    print(f"{'after':>8}  {'seconds':>8}  {'RSS MB':>7}", flush=True)

    def show(label: str, seconds: float, memory: dict[str, int]) -> None:
        print(f"{label:>8}  {seconds:>8.0f}  {memory['VmRSS'] / 1024:>7.1f}", flush=True)

    with FakeTelegram() as fake, tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        bot = start_bot(fake, workdir)
        samples: list[tuple[int, float, dict[str, int]]] = []
        replies = Replies(fake)
        sent = 0
        started = time.monotonic()
        try:
            show("start", 0, memory_kb(bot.pid))
            for text in texts:
                while sent - replies.update() >= args.window:
                    if time.monotonic() > deadline or bot.poll() is not None:
                        raise TimeoutError(f"stuck at {sent} sent, {replies.count} replies")
                    time.sleep(0.005)
                fake.send_text(text, user=users[sent % len(users)])
                sent += 1
                if sent == WARM_UP or (sent > WARM_UP and (sent - WARM_UP) % SAMPLE_EVERY == 0):
                    samples.append((sent - WARM_UP, time.monotonic() - started, memory_kb(bot.pid)))
                    count, seconds, memory = samples[-1]
                    show(str(count) if count else "warm-up", seconds, memory)
            while replies.update() < sent:
                if time.monotonic() > deadline or bot.poll() is not None:
                    raise TimeoutError(f"{replies.count} of {sent} replies")
                time.sleep(0.05)
            final = memory_kb(bot.pid)
            elapsed = time.monotonic() - started
        finally:
            if bot.poll() is None:
                bot.send_signal(signal.SIGTERM)
            code = bot.wait(60)
        with sqlite3.connect(workdir / "data" / "faqbot.sqlite3") as db:
            rows = db.execute("SELECT COUNT(*) FROM questions").fetchone()[0]
        log = (workdir / "bot.log").read_text(errors="replace")

    show("end", elapsed, final)
    before = samples[0][2]["VmRSS"]
    growth = (final["VmRSS"] - before) / 1024
    print(f"RSS after warm-up {before / 1024:.1f} MB, after {final['VmRSS'] / 1024:.1f} MB")
    print(f"growth {growth:+.1f} MB, peak (VmHWM) {final['VmHWM'] / 1024:.1f} MB")
    print(f"replies per second {sent / elapsed:.0f}")
    every_reply = replies.count == sent and all(
        replies.per_chat.get(user["id"], 0) == len(range(n, sent, len(users)))
        for n, user in enumerate(users)
    )
    print(f"every message one reply: {every_reply}; log rows {rows} of {sent}; exit code {code}")
    errors = sum(" ERROR " in line for line in log.splitlines())
    ok = every_reply and rows == sent and code == 0 and errors == 0
    ok = ok and final["VmRSS"] < 200 * 1024
    print("OK" if ok else "FAILED (a reply or row missing, an error logged, or RSS >= 200 MB)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
