"""Who may in, and how many at once: the access token and the session slots.

The token is Jupyter's idea: a random secret, made when the server starts and printed in the
URL, that every request for the page and every websocket must carry. 32 bytes from
:mod:`secrets` (256 bits) cannot be guessed; it is compared in constant time, so the time a
refusal takes tells nothing about how much of a guess was right. Nothing here does I/O.
"""

from __future__ import annotations

import secrets
from enum import Enum
from urllib.parse import urlsplit

#: Bytes of randomness in a token (it is printed URL-safe base64: 43 characters).
TOKEN_BYTES = 32


class Refusal(Enum):
    """Why a request is refused; :attr:`status` is its HTTP status."""

    NO_TOKEN = "no token"  # no credentials at all: say how to get in
    BAD_TOKEN = "wrong token"
    FOREIGN_ORIGIN = "another site's page"  # a websocket opened from another origin
    FULL = "every session in use"

    @property
    def status(self) -> int:
        return _STATUS[self]


_STATUS = {
    Refusal.NO_TOKEN: 401,
    Refusal.BAD_TOKEN: 403,
    Refusal.FOREIGN_ORIGIN: 403,
    Refusal.FULL: 503,
}


class Gate:
    """The server's token; :meth:`check` says whether a request's token opens the gate."""

    def __init__(self, token: str | None = None) -> None:
        self.token = token if token is not None else secrets.token_urlsafe(TOKEN_BYTES)

    def check(self, given: str | None) -> Refusal | None:
        """None if ``given`` is the token; else why not."""
        if not given:
            return Refusal.NO_TOKEN
        if not secrets.compare_digest(given.encode(), self.token.encode()):
            return Refusal.BAD_TOKEN
        return None


def same_origin(origin: str | None, host: str | None) -> bool:
    """Whether a websocket's ``Origin`` header names the page's own server (``Host``).

    Browsers send Origin on every websocket; a page of another site connecting to this server
    would show its own. A client that is not a browser sends none, and has only the token to
    show (which it needs anyway)."""
    if origin is None:
        return True
    if not host:
        return False
    parts = urlsplit(origin)
    return parts.scheme in ("http", "https") and parts.netloc.lower() == host.lower()


class Slots:
    """At most ``limit`` sessions at once. Single-threaded (the server's event loop)."""

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError(f"the session limit must be at least 1, not {limit}")
        self.limit = limit
        self.used = 0

    @property
    def full(self) -> bool:
        return self.used >= self.limit

    def take(self) -> bool:
        """Take a slot; False when all are taken."""
        if self.full:
            return False
        self.used += 1
        return True

    def release(self) -> None:
        """Give back a slot that :meth:`take` gave."""
        if self.used <= 0:
            raise RuntimeError("released a session slot that was never taken")
        self.used -= 1
