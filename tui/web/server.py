"""The web application: the trainer's page, its websocket, and textual-serve's static files.

Routes:

- ``GET /?token=T`` — the page (:func:`.pages.trainer_page`); its script opens the websocket.
- ``GET /ws/T`` — the websocket that starts a trainer (:class:`.sessions.TrainerSession`) and
  relays keys and output until either side goes. The token is in the path: textual.js appends
  its own ``?width=…&height=…`` to the URL it is given.
- ``GET /static/…`` — textual-serve's script, stylesheet and font (public files, no token).

The page and the websocket without the right token get 401 (none) or 403 (wrong), a
websocket from another site's page 403, and either one when every session slot is taken 503
(the page then explains). Each refusal is an HTML page that says what to do. Every response
forbids caching, framing and referrers; the page's Content-Security-Policy allows this server
only.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import secrets
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

import textual_serve
from aiohttp import WSMsgType, web
from textual_serve.download_manager import DownloadManager

from .gate import Gate, Refusal, Slots, same_origin
from .pages import content_security_policy, refusal_page, trainer_page
from .sessions import TrainerSession

#: textual-serve's page assets: js/textual.js, css/xterm.css, fonts/RobotoMono-*.ttf.
STATIC = Path(textual_serve.__file__).parent / "static"
#: The terminal size a browser may ask for, in cells (as textual.js measures its window).
SIZES = range(1, 1001)
#: Refusal pages' policy: their one inline style, nothing else.
REFUSAL_POLICY = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"

Log = Callable[[str], None]


def say(text: str, stream: TextIO | None = None) -> None:
    """Print a line now; a closed output (the server's terminal gone) loses it quietly."""
    with contextlib.suppress(OSError, ValueError):
        print(text, file=stream if stream is not None else sys.stdout, flush=True)


def _cells(text: str | None, default: int) -> int:
    try:
        value = int(text) if text is not None else default
    except ValueError:
        return default
    return value if value in SIZES else default


def _exit_words(code: int | None) -> str:
    if code is None:
        return "never started"
    if code < 0:
        return f"killed by {signal.Signals(-code).name}"
    return {0: "quit", 129: "left (its page went away)", 143: "stopped"}.get(
        code, f"exited with status {code}"
    )


class TrainerServer:
    """The routes and the live sessions of one server. Runs on one event loop."""

    def __init__(self, command: list[str], gate: Gate, slots: Slots, log: Log = say) -> None:
        self.command = command
        self.gate = gate
        self.slots = slots
        self.log = log
        self.sessions: dict[int, TrainerSession] = {}
        self.stopping = False
        self._numbers = itertools.count(1)
        self._websockets: set[web.WebSocketResponse] = set()
        self._downloads = DownloadManager()

    def application(self) -> web.Application:
        app = web.Application()
        app.add_routes(
            [
                web.get("/", self.page),
                # /ws/TOKEN; /ws and /ws/ too, to be refused as the page is
                web.get(r"/ws{token:(?:/[^/]*)?}", self.websocket),
                web.static("/static", STATIC),
            ]
        )
        app.on_response_prepare.append(_safe_headers)
        return app

    # ---- the page -----------------------------------------------------------------------
    async def page(self, request: web.Request) -> web.StreamResponse:
        refusal = self.gate.check(request.query.get("token"))
        if refusal is None and (self.stopping or self.slots.full):
            refusal = Refusal.FULL
        if refusal is not None:
            return self.refused(refusal)
        nonce = secrets.token_urlsafe(16)
        scheme = "wss" if request.secure else "ws"
        url = f"{scheme}://{request.host}/ws/{self.gate.token}"
        text = trainer_page(url, nonce, _cells(request.query.get("fontsize"), 16))
        response = web.Response(text=text, content_type="text/html")
        response.headers["Content-Security-Policy"] = content_security_policy(nonce)
        return response

    def refused(self, refusal: Refusal) -> web.Response:
        response = web.Response(
            status=refusal.status,
            text=refusal_page(refusal, self.slots.limit),
            content_type="text/html",
        )
        response.headers["Content-Security-Policy"] = REFUSAL_POLICY
        if refusal is Refusal.NO_TOKEN:
            response.headers["WWW-Authenticate"] = 'Token realm="miniframe-tui"'
        return response

    # ---- the websocket: one trainer -----------------------------------------------------
    async def websocket(self, request: web.Request) -> web.StreamResponse:
        refusal = self.gate.check(request.match_info.get("token", "").lstrip("/"))
        if refusal is None and not same_origin(request.headers.get("Origin"), request.host):
            refusal = Refusal.FOREIGN_ORIGIN
        if refusal is None and (self.stopping or not self.slots.take()):
            refusal = Refusal.FULL
        if refusal is not None:
            return self.refused(refusal)
        try:
            return await self._session(request)
        finally:
            self.slots.release()

    async def _session(self, request: web.Request) -> web.WebSocketResponse:
        websocket = web.WebSocketResponse(heartbeat=15, max_msg_size=1 << 20)
        await websocket.prepare(request)
        number = next(self._numbers)

        async def close() -> None:
            await websocket.close()

        session = TrainerSession(
            number,
            self.command,
            write_bytes=websocket.send_bytes,
            write_str=websocket.send_str,
            close=close,
            download_manager=self._downloads,
        )
        self._websockets.add(websocket)
        try:
            await session.start(
                _cells(request.query.get("width"), 80), _cells(request.query.get("height"), 24)
            )
            self.sessions[number] = session
            self.log(
                f"session {number} opened: trainer pid {session.pid} "
                f"({self.slots.used} of {self.slots.limit} in use)"
            )
            await _relay(websocket, session)
        except OSError as error:
            self.log(f"session {number}: the trainer could not start: {error}")
        finally:
            code = await session.end(signal.SIGHUP)
            self.sessions.pop(number, None)
            self._websockets.discard(websocket)
            await websocket.close()
            if session.pid is not None:
                self.log(
                    f"session {number} closed: trainer pid {session.pid} {_exit_words(code)} "
                    f"({self.slots.used - 1} of {self.slots.limit} in use)"
                )
        return websocket

    # ---- stopping -----------------------------------------------------------------------
    async def stop(self) -> None:
        """Refuse new sessions, end every trainer (SIGTERM: their runs end ``interrupted``),
        and close every connection."""
        import asyncio

        self.stopping = True
        await asyncio.gather(
            *(s.end(signal.SIGTERM) for s in list(self.sessions.values())),
            return_exceptions=True,
        )
        for websocket in list(self._websockets):
            await websocket.close()

    def kill(self) -> None:
        """Kill every trainer now (a second Ctrl-C)."""
        for session in list(self.sessions.values()):
            session.kill()


async def _relay(websocket: web.WebSocketResponse, session: TrainerSession) -> None:
    """The browser's messages to the trainer (textual.js's protocol: JSON lists) until the
    browser goes or the trainer ends (which closes the websocket). Malformed ones are
    dropped."""
    async for message in websocket:
        if message.type != WSMsgType.TEXT:
            continue
        try:
            envelope: Any = json.loads(message.data)
        except ValueError:
            continue
        if not isinstance(envelope, list) or not envelope:
            continue
        kind, data = envelope[0], envelope[1] if len(envelope) > 1 else None
        if kind == "stdin" and isinstance(data, str):
            await session.send_bytes(data.encode("utf-8"))
        elif kind == "resize" and isinstance(data, dict):
            width, height = _cells(str(data.get("width")), 80), _cells(str(data.get("height")), 24)
            await session.set_terminal_size(width, height)
        elif kind == "ping" and isinstance(data, str):
            await websocket.send_json(["pong", data])
        elif kind == "focus":
            await session.focus()
        elif kind == "blur":
            await session.blur()


async def _safe_headers(request: web.Request, response: web.StreamResponse) -> None:
    """On every response: not cached (the page holds the token), not framed, no referrer
    (the token is in the page's URL), no content sniffing."""
    headers = response.headers
    headers.setdefault("Cache-Control", "no-store")
    headers.setdefault("Referrer-Policy", "no-referrer")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("X-Content-Type-Options", "nosniff")
