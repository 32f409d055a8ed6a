"""What several replicas sharing one database agree on, through that database alone.

* **Leases** (``hold``, ``release``): a named role one replica holds at a time, for a while at
  a time; the long-polling ``getUpdates`` loop is one (``POLLER``). The lease's end is set and
  compared by the database's own clock (``Database.now``), so replicas whose clocks differ never
  both think they hold it; a holder that stops renewing (killed, cut off) loses it when it runs
  out, and another takes it.
* **Job runs** (``claim_job``): a scheduled job (the daily purge, the weekly digest) runs once
  per period across all replicas: the first to insert the (job, period) row runs it.
* **Versions** (``bump``, ``version``; the table ``counters``): numbers every replica watches;
  a ``/genindlaes`` in one bumps ``knowledge`` and the others reload when they see it change.

This module speaks the SQL; when to hold, claim or bump is ``faqbot.bot.replicas``'s job.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from faqbot.questionlog import QuestionLog, to_timestamp

POLLER = "poller"
"""The lease of the replica that may call ``getUpdates``."""
KNOWLEDGE = "knowledge"
"""The version that a knowledge base reload bumps."""
JOB_RUNS_KEPT = timedelta(days=60)


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Coordination:
    """Leases, job runs and versions in an open ``QuestionLog``, for the replica ``owner``."""

    def __init__(
        self, log: QuestionLog, *, owner: str, clock: Callable[[], datetime] | None = None
    ) -> None:
        self.log = log
        self.owner = owner
        self._clock = clock or _utc_now

    async def hold(self, name: str, seconds: float) -> bool:
        """Take or renew the lease ``name`` for ``seconds`` from now (by the database's
        clock); False when another replica holds it and it has not run out."""
        now = self.log.database.now
        rows = await self.log.write(
            "INSERT INTO leases (name, holder, lease_until) "
            f"VALUES (?, ?, {now} + ?) "
            "ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, "
            "lease_until = excluded.lease_until "
            f"WHERE leases.holder = excluded.holder OR leases.lease_until < {now} "
            "RETURNING holder",
            (name, self.owner, float(seconds)),
            rows=True,
        )
        return bool(rows)

    async def release(self, name: str) -> bool:
        """Give up the lease ``name`` if this replica holds it, so another may take it now."""
        count = await self.log.write(
            "UPDATE leases SET lease_until = 0 WHERE name = ? AND holder = ?", (name, self.owner)
        )
        return bool(count)

    async def holder(self, name: str) -> str | None:
        """Who holds the lease ``name`` now (None when nobody does)."""
        now = self.log.database.now
        row = await self.log.connection.fetchone(
            f"SELECT holder FROM leases WHERE name = ? AND lease_until >= {now}", (name,)
        )
        return str(row[0]) if row else None

    async def claim_job(self, job: str, period: str) -> bool:
        """Whether this replica runs ``job`` for ``period`` (e.g. a date): True for the first
        to ask, False for every other replica and every later ask."""
        count = await self.log.write(
            "INSERT INTO job_runs (job, period, owner, started_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT DO NOTHING",
            (job, period, self.owner, to_timestamp(self._clock())),
        )
        return int(count) == 1

    async def unclaim_job(self, job: str, period: str) -> bool:
        """Give back this replica's claim of ``job`` for ``period`` (the job failed), so the
        next to ask runs it."""
        count = await self.log.write(
            "DELETE FROM job_runs WHERE job = ? AND period = ? AND owner = ?",
            (job, period, self.owner),
        )
        return bool(count)

    async def prune_jobs(self) -> int:
        """Forget job runs older than ``JOB_RUNS_KEPT``; return how many."""
        cutoff = to_timestamp(self._clock() - JOB_RUNS_KEPT)
        return int(await self.log.write("DELETE FROM job_runs WHERE started_at < ?", (cutoff,)))

    async def bump(self, name: str) -> int:
        """Increase the version ``name`` by one (from 0); return the new version."""
        rows = await self.log.write(
            "INSERT INTO counters (name, value) VALUES (?, 1) ON CONFLICT (name) "
            "DO UPDATE SET value = counters.value + 1 RETURNING value",
            (name,),
            rows=True,
        )
        return int(rows[0][0])

    async def version(self, name: str) -> int:
        """The version ``name`` (0 before its first bump)."""
        row = await self.log.connection.fetchone(
            "SELECT value FROM counters WHERE name = ?", (name,)
        )
        return int(row[0]) if row else 0
