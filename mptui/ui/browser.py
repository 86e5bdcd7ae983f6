"""The whole app in a web browser, through textual-serve: each browser tab runs its own app
process (the command given), and only a browser that has the token gets one.

The token comes in the page's URL (`/?token=...`). textual-serve's page then fetches its scripts
and opens its websocket with plain URLs, so the page also gets the token as a cookie (HttpOnly,
SameSite=Strict, a random name per server). A request with neither gets 403 before any handler
runs, so no app process starts; so does a websocket opened from a page of another origin.
"""

from __future__ import annotations

import asyncio
import hmac
import secrets
import signal
import sys
from collections.abc import Callable

from aiohttp import web
from textual_serve.server import Server

WEBSOCKET_PATH = "/ws"  # textual-serve's route that starts an app process
QUIT_TIMEOUT = 10.0  # seconds an app is given to quit when the server stops

FORBIDDEN = (
    "403: this page needs the URL with its token, as `mptui serve` printed it "
    "(a new token each time it starts)\n"
)


class TokenServer(Server):
    """textual-serve's Server behind a token; the page's URLs follow the address the browser
    used (so http://localhost:8000/ and a LAN address work, not only the bound one)."""

    def __init__(self, command: str, host: str, port: int) -> None:
        super().__init__(command, host=host, port=port, title="mptui")
        self.token = secrets.token_urlsafe(24)
        self._cookie = f"mptui-serve-{secrets.token_hex(4)}"
        self._sessions: set[asyncio.Task] = set()

    async def _make_app(self) -> web.Application:
        app = await super()._make_app()
        app.middlewares.insert(0, self._guard)
        return app

    @web.middleware
    async def _guard(self, request: web.Request, handler) -> web.StreamResponse:
        by_url = _same(request.query.get("token"), self.token)
        if not (by_url or _same(request.cookies.get(self._cookie), self.token)):
            raise web.HTTPForbidden(text=FORBIDDEN)
        if request.path == WEBSOCKET_PATH:
            if not _same_origin(request):
                raise web.HTTPForbidden(text="403: a websocket from another site\n")
            return await self._track(handler(request))
        response = await handler(request)
        if by_url:
            response.set_cookie(self._cookie, self.token, httponly=True, samesite="Strict")
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Cache-Control"] = "no-store"
        return response

    async def _track(self, session):
        """Run one browser session (its app process), so that `stop_sessions` can end it."""
        task = asyncio.current_task()
        self._sessions.add(task)
        try:
            return await session
        finally:
            self._sessions.discard(task)

    async def stop_sessions(self, timeout: float = QUIT_TIMEOUT) -> int:
        """Ask every app to quit (textual-serve does so when its session is cancelled) and wait
        for them; returns how many did not end in time."""
        tasks = list(self._sessions)
        for task in tasks:
            task.cancel()
        if not tasks:
            return 0
        _done, pending = await asyncio.wait(tasks, timeout=timeout)
        return len(pending)

    async def handle_index(self, request: web.Request):
        self.public_url = f"{request.scheme}://{request.host}"
        return await super().handle_index(request)

    async def on_startup(self, app: web.Application) -> None:
        """textual-serve prints a banner here; `serve`'s caller says what matters instead."""


def serve(server: TokenServer, announce: Callable[[list], None]) -> int:
    """Serve until SIGINT, SIGTERM or SIGHUP; `announce(addresses)` once listening."""
    return asyncio.run(_serve(server, announce))


async def _serve(server: TokenServer, announce: Callable[[list], None]) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        loop.add_signal_handler(sig, stop.set)
    # no access log: it would print every URL, token included
    runner = web.AppRunner(
        await server._make_app(), access_log=None, handle_signals=False, shutdown_timeout=1.0
    )
    await runner.setup()
    try:
        await web.TCPSite(runner, server.host, server.port).start()
        announce(runner.addresses)
        await stop.wait()
        left = await server.stop_sessions()
        if left:
            print(f"mptui serve: {left} app(s) did not quit in time", file=sys.stderr)
    finally:
        await runner.cleanup()
    return 0


def _same(given: str | None, token: str) -> bool:
    if given is None:
        return False
    return hmac.compare_digest(given.encode("utf-8", "surrogatepass"), token.encode())


def _same_origin(request: web.Request) -> bool:
    """Browsers send Origin with a websocket; it must be this server as the page saw it."""
    origin = request.headers.get("Origin")
    return origin is None or origin == f"{request.scheme}://{request.host}"
