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

Several processes can share the inbox through the claims alone: a claim takes only rows whose
lease has run out, a dead holder's rows become claimable when its leases expire, and a row is
done once. PostgreSQL would run the same statements, with ``FOR UPDATE SKIP LOCKED`` in the
claim's sub-select. One process on SQLite is the only possible holder, so it releases every
claim when it starts (``release_all``) instead of waiting for old leases to expire.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from faqbot.questionlog import HeldWrites, QuestionLog, from_timestamp, to_timestamp

LEASE = timedelta(seconds=60)
"""How long a claim holds without renewal; the holder renews it well before."""
DEDUP_WINDOW = timedelta(hours=24)
"""Done rows are kept this long to recognise a repeated delivery; Telegram keeps an update
no longer than 24 hours, so no repeat can come later."""
ACCEPT_LIMIT = 100
"""Updates stored by one statement (``getUpdates`` returns at most 100)."""
_IDS_PER_STATEMENT = 500


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
        """Mark an update done and erase its payload, in one transaction with its held rows."""
        self.log.write_together(
            held or HeldWrites(),
            [
                (
                    "UPDATE inbox SET done_at = ?, payload = NULL, claimed_by = NULL, "
                    "lease_until = NULL WHERE update_id = ?",
                    (self._now(), int(update_id)),
                )
            ],
        )

    async def claim(self, limit: int = ACCEPT_LIMIT) -> list[InboxEntry]:
        """Take up to ``limit`` pending updates that no live lease holds, oldest first."""
        now = self._now()
        rows = await self.log.write(
            "UPDATE inbox SET claimed_by = ?, lease_until = ?, attempts = attempts + 1 "
            "WHERE update_id IN (SELECT update_id FROM inbox WHERE done_at IS NULL "
            "AND (lease_until IS NULL OR lease_until <= ?) ORDER BY update_id LIMIT ?) "
            "RETURNING update_id, received_at, payload, attempts",
            (self.owner, now + self.lease.total_seconds(), now, int(limit)),
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
                f"MAX(attempts - 1, 0) WHERE done_at IS NULL AND claimed_by = ? "
                f"AND update_id IN ({_marks(len(batch))})",
                (not_before, self.owner, *batch),
            )

    async def release_mine(self) -> int:
        """Hand back every update this process holds (not counted as attempts); return how
        many."""
        return int(
            await self.log.write(
                "UPDATE inbox SET claimed_by = NULL, lease_until = NULL, "
                "attempts = MAX(attempts - 1, 0) WHERE claimed_by = ? AND done_at IS NULL",
                (self.owner,),
            )
        )

    async def release_all(self) -> int:
        """Free every pending update, whoever held it (a single process, at start-up)."""
        return int(
            await self.log.write(
                "UPDATE inbox SET claimed_by = NULL, lease_until = NULL WHERE done_at IS NULL "
                "AND (claimed_by IS NOT NULL OR lease_until IS NOT NULL)"
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
