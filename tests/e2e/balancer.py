"""A round-robin reverse proxy on 127.0.0.1 in front of several webhook replicas.

Why: in webhook mode Telegram posts every update to one URL; with several ``faqbot run``
replicas a load balancer (nginx, HAProxy, a cloud balancer) spreads them. This one forwards
each request to the next backend in turn and counts how many each got. A backend that does
not answer (its process was killed) gets a 502 back to the caller, as nginx answers a POST it
will not retry elsewhere; Telegram then delivers the update again later, to the next backend.
It runs on its own event loop in a background thread, like the fake server.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
from collections import Counter

import aiohttp
from aiohttp import web

_HOP_BY_HOP = frozenset({"connection", "keep-alive", "transfer-encoding", "host", "content-length"})


class Balancer:
    """Forward each request to the next of ``ports`` (on 127.0.0.1), round robin."""

    def __init__(self, ports: list[int]) -> None:
        self.ports = list(ports)
        self.forwarded: Counter[int] = Counter()
        """Requests each backend answered with a 2xx, by port."""
        self.failed: Counter[int] = Counter()
        """Requests a backend did not answer (connection refused or reset), by port."""
        self._next = itertools.cycle(self.ports)
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.ServerRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self.port = 0

    def url(self, path: str = "") -> str:
        return f"http://127.0.0.1:{self.port}/{path.lstrip('/')}"

    def start(self) -> Balancer:
        started = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            loop.run_until_complete(self._serve())
            started.set()
            loop.run_forever()
            loop.close()

        self._thread = threading.Thread(target=run, name="balancer", daemon=True)
        self._thread.start()
        started.wait(10)
        return self

    def stop(self) -> None:
        if self._loop is None or self._thread is None:
            return
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop = None

    async def _serve(self) -> None:
        self._session = aiohttp.ClientSession()
        self._runner = web.ServerRunner(web.Server(self._forward), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None and server.sockets
        self.port = server.sockets[0].getsockname()[1]

    async def _shutdown(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()

    async def _forward(self, request: web.BaseRequest) -> web.StreamResponse:
        with self._lock:
            port = next(self._next)
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
        assert self._session is not None
        try:
            async with self._session.request(
                request.method,
                f"http://127.0.0.1:{port}{request.rel_url}",
                headers=headers,
                data=await request.read(),
                timeout=aiohttp.ClientTimeout(total=10),
            ) as answer:
                body = await answer.read()
                status = answer.status
        except (aiohttp.ClientError, TimeoutError):
            with self._lock:
                self.failed[port] += 1
            return web.Response(status=502, text="Bad Gateway")
        if 200 <= status < 300:
            with self._lock:
                self.forwarded[port] += 1
        return web.Response(status=status, body=body)
