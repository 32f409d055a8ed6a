"""A tiny forward HTTP proxy on 127.0.0.1 that counts what it forwards, by Bot API method.

Why: hospital and municipal networks often reach the internet only through a proxy; the tests
point ``HTTP_PROXY`` (or ``FAQBOT_PROXY_URL``) at this one and check that every request the bot
makes to the fake Bot API went through it. Plain-http targets only (the fake serves http), as a
proxy sees them: ``POST http://127.0.0.1:<port>/bot<token>/<method>``. It runs on its own event
loop in a background thread, like the fake server.
"""

from __future__ import annotations

import asyncio
import threading
from collections import Counter

import aiohttp
from aiohttp import web

_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
    }
)


class CountingProxy:
    """Forward each request to the URL it names and count it under its last path part."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.ServerRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def total(self) -> int:
        with self._lock:
            return sum(self.counts.values())

    def count(self, method: str) -> int:
        with self._lock:
            return self.counts[method]

    def start(self) -> CountingProxy:
        started = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            loop.run_until_complete(self._serve())
            started.set()
            loop.run_forever()
            loop.close()

        self._thread = threading.Thread(target=run, name="counting-proxy", daemon=True)
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
        self._session = aiohttp.ClientSession(auto_decompress=False)
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
        target = request.url  # the absolute URL from the request line (Host names the target)
        with self._lock:
            self.counts[target.path.rsplit("/", 1)[-1]] += 1
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
        assert self._session is not None
        async with self._session.request(
            request.method,
            target,
            headers=headers,
            data=await request.read(),
            timeout=aiohttp.ClientTimeout(total=60),
        ) as answer:
            body = await answer.read()
            kept = {k: v for k, v in answer.headers.items() if k.lower() not in _HOP_BY_HOP}
            return web.Response(status=answer.status, body=body, headers=kept)
