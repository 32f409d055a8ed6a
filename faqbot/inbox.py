"""The update inbox: the storage half of "every accepted question gets its answer".

An update from Telegram is stored here before Telegram is told it arrived (long polling: before
the next ``getUpdates`` moves the offset past it; webhook: before the HTTP 200), and marked done
in the same transaction as the question-log rows its handling wrote (``complete``), so a crash
at any moment either loses neither (the update is handled again after the restart) or keeps
both. This module speaks the SQL; when and what to hand it is ``faqbot.bot.delivery``'s job.

A row is keyed by Telegram's ``update_id`` (unique per bot), so a second delivery of the same
update is recognised and skipped. Its life:

* ``accept``: stored, pending, and claimed by this process with a lease;
* ``complete``: done; the payload (the update JSON, the only personal data here) is erased;
* ``release``: pending and unclaimed again (a shutdown hands back what it did not finish; a
  reply Telegram did not take is retried later);
* ``claim``: the pending rows nobody holds a live lease on, oldest first, for this process;
* ``renew``: the holder extends the leases of the rows it is still working on;
* ``prune``: done rows (only an update id and two times) are deleted after ``DEDUP_WINDOW``.

Several processes (replicas) share the inbox through the claims alone, on SQLite or PostgreSQL:
a claim takes only rows whose lease has run out (on PostgreSQL skipping rows another replica is
claiming at that moment), a dead holder's rows become claimable when its leases expire, and the
done mark is conditional: it marks the update only if this process still holds it and it is not
done yet, and the question-log rows held for it are written only then. A process whose lease
ran out while it was still handling an update (another replica took it over) may have sent its
reply too, but its rows are dropped: the update is logged once. There is no "free every claim at
start-up": with several processes that would take over updates a live replica is handling.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from faqbot.questionlog import Guard, HeldWrites, QuestionLog, from_timestamp, to_timestamp

LEASE = timedelta(seconds=15)
"""How long a claim holds without renewal; the holder renews it every few seconds
(``faqbot.bot.delivery.MAINTENANCE_SECONDS``), so a replica that died leaves its updates to the
others within about this long."""
DEDUP_WINDOW = timedelta(hours=24)
"""Done rows are kept this long to recognise a repeated delivery; Telegram keeps an update
no longer than 24 hours, so no repeat can come later."""
ACCEPT_LIMIT = 100
"""Updates stored by one statement (``getUpdates`` returns at most 100)."""
_IDS_PER_STATEMENT = 500
_ONE_FEWER = "CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END"
_DONE = (
    "UPDATE inbox SET done_at = marks.column2, payload = NULL, claimed_by = NULL, "
    "lease_until = NULL FROM (VALUES {rows}) AS marks WHERE inbox.update_id = marks.column1 "
    "AND inbox.claimed_by = ? AND inbox.done_at IS NULL RETURNING inbox.update_id"
)
"""The done marks of many updates (``(update_id, done_at)`` rows) in one statement; only where
this process still holds the update and it is not done yet."""
"""``MAX(attempts - 1, 0)`` in SQLite, ``GREATEST`` in PostgreSQL: written once for both."""


@dataclass(frozen=True)
class InboxEntry:
    """A pending update taken from the inbox."""

    update_id: int
    received_at: datetime
    payload: str
    attempts: int
    """How often it has been taken for handling and not handed back, this time included: how
    often a process died holding it (after ``MAX_ATTEMPTS`` the delivery gives it up)."""


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _chunks(ids: Iterable[int]) -> Iterable[list[int]]:
    batch: list[int] = []
    for update_id in ids:
        batch.append(int(update_id))
        if len(batch) == _IDS_PER_STATEMENT:
            yield batch
            batch = []
    if batch:
        yield batch


def _marks(count: int) -> str:
    return ", ".join("?" * count)


class Inbox:
    """The inbox table of an open ``QuestionLog``, for the process named ``owner``."""

    def __init__(
        self,
        log: QuestionLog,
        *,
        owner: str,
        lease: timedelta = LEASE,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.log = log
        self.owner = owner
        self.lease = lease
        self._clock = clock or _utc_now

    def _now(self) -> float:
        return to_timestamp(self._clock())

    async def accept(self, updates: Sequence[tuple[int, str]]) -> set[int]:
        """Store ``(update_id, payload JSON)`` pairs durably, claimed by this process; return
        the ids that were new (an id already in the inbox, pending or done, is a repeat)."""
        if not updates:
            return set()
        if len(updates) > ACCEPT_LIMIT:
            raise ValueError(f"at most {ACCEPT_LIMIT} updates at once, got {len(updates)}")
        now = self._now()
        lease_until = now + self.lease.total_seconds()
        parameters: list[Any] = []
        for update_id, payload in updates:
            parameters += [int(update_id), now, payload, self.owner, lease_until]
        rows = await self.log.write(
            "INSERT INTO inbox (update_id, received_at, payload, claimed_by, lease_until, "
            f"attempts) VALUES {', '.join(['(?, ?, ?, ?, ?, 1)'] * len(updates))} "
            "ON CONFLICT (update_id) DO NOTHING RETURNING update_id",
            parameters,
            rows=True,
        )
        return {int(row[0]) for row in rows}

    def complete(self, update_id: int, held: HeldWrites | None = None) -> None:
        """Mark an update done and erase its payload, in one transaction with its held rows;
        only if this process still holds it and it is not done (else the rows are dropped)."""
        self.log.write_together(
            held or HeldWrites(), Guard(_DONE, (int(update_id), self._now()), (self.owner,))
        )

    async def claim(self, limit: int = ACCEPT_LIMIT) -> list[InboxEntry]:
        """Take up to ``limit`` pending updates that no live lease holds, oldest first."""
        now = self._now()
        claimable = "done_at IS NULL AND (lease_until IS NULL OR lease_until <= ?)"
        # The rows are picked once (MATERIALIZED: PostgreSQL would otherwise re-run a LIMIT
        # sub-select per row, and with SKIP LOCKED each run finds other rows), and the
        # condition is checked again on each: a row another replica claimed meanwhile is left.
        rows = await self.log.write(
            f"WITH picked AS MATERIALIZED (SELECT update_id FROM inbox WHERE {claimable} "
            f"ORDER BY update_id LIMIT ?{self.log.database.skip_locked}) "
            "UPDATE inbox SET claimed_by = ?, lease_until = ?, attempts = attempts + 1 "
            f"WHERE {claimable} AND update_id IN (SELECT update_id FROM picked) "
            "RETURNING update_id, received_at, payload, attempts",
            (now, int(limit), self.owner, now + self.lease.total_seconds(), now),
            rows=True,
        )
        entries = [
            InboxEntry(int(row[0]), from_timestamp(row[1]), str(row[2] or ""), int(row[3]))
            for row in rows
        ]
        return sorted(entries, key=lambda entry: entry.update_id)

    async def renew(self, update_ids: Iterable[int]) -> None:
        """Extend this process's leases on the updates it is still handling."""
        lease_until = self._now() + self.lease.total_seconds()
        for batch in _chunks(update_ids):
            await self.log.write(
                f"UPDATE inbox SET lease_until = ? WHERE claimed_by = ? AND done_at IS NULL "
                f"AND update_id IN ({_marks(len(batch))})",
                (lease_until, self.owner, *batch),
            )

    async def release(self, update_ids: Iterable[int], *, retry_in: float = 0.0) -> None:
        """Hand updates back unfinished; they can be claimed again after ``retry_in`` seconds.
        A hand-back does not count as an attempt (only a holder that died does)."""
        not_before = self._now() + retry_in if retry_in > 0 else None
        for batch in _chunks(update_ids):
            await self.log.write(
                f"UPDATE inbox SET claimed_by = NULL, lease_until = ?, attempts = "
                f"{_ONE_FEWER} WHERE done_at IS NULL AND claimed_by = ? "
                f"AND update_id IN ({_marks(len(batch))})",
                (not_before, self.owner, *batch),
            )

    async def release_mine(self) -> int:
        """Hand back every update this process holds (not counted as attempts); return how
        many."""
        return int(
            await self.log.write(
                "UPDATE inbox SET claimed_by = NULL, lease_until = NULL, "
                f"attempts = {_ONE_FEWER} WHERE claimed_by = ? AND done_at IS NULL",
                (self.owner,),
            )
        )

    async def prune(self, now: datetime | None = None) -> int:
        """Delete done rows older than ``DEDUP_WINDOW``; return how many."""
        cutoff = to_timestamp(now or self._clock()) - DEDUP_WINDOW.total_seconds()
        return int(
            await self.log.write(
                "DELETE FROM inbox WHERE done_at IS NOT NULL AND done_at < ?", (cutoff,)
            )
        )

    async def counts(self) -> tuple[int, int]:
        """How many updates are pending and how many done rows are kept."""
        rows = await self.log.write(
            "SELECT COUNT(*) - COUNT(done_at), COUNT(done_at) FROM inbox", rows=True
        )
        pending, done = rows[0]
        return int(pending or 0), int(done or 0)
