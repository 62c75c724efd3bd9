"""The HTML the server sends: the trainer's page, and the pages that say why not.

Every page is self-contained or loads only from this server (``/static``: textual-serve's
script, stylesheet and font); the Content-Security-Policy that goes with it
(:data:`CONTENT_SECURITY_POLICY`) makes the browser refuse anything else, so the trainer
works offline and a page cannot be made to talk to another host.
"""

from __future__ import annotations

import html
from importlib.resources import files
from string import Template

from miniframe.engine.plurals import plural

from .gate import Refusal

TITLE = "miniframe trainer"
#: textual-serve ships Roboto Mono, the font its script asks for; the page serves that copy.
FONT_PATH = "/static/fonts/RobotoMono-VariableFont_wght.ttf"
#: Font size in CSS pixels unless the URL says ``&fontsize=N`` (as textual-serve's page).
FONT_SIZE = 16
FONT_SIZES = range(6, 65)


def content_security_policy(nonce: str) -> str:
    """Nothing but this server: scripts, styles, fonts, images and the websocket. The page's
    own script runs by its ``nonce``; styles may be inline (xterm.js writes its own)."""
    return (
        "default-src 'none'; "
        f"script-src 'self' 'nonce-{nonce}'; "
        "style-src 'self' 'unsafe-inline'; "
        "font-src 'self'; img-src 'self' data:; connect-src 'self'; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )


def trainer_page(websocket_url: str, nonce: str, font_size: int = FONT_SIZE) -> str:
    """The page that runs one trainer, connected to ``websocket_url``."""
    template = Template(files(__package__).joinpath("page.html").read_text(encoding="utf-8"))
    if font_size not in FONT_SIZES:
        font_size = FONT_SIZE
    return template.substitute(
        title=html.escape(TITLE),
        font_url=FONT_PATH,
        websocket_url=html.escape(websocket_url, quote=True),
        font_size=font_size,
        nonce=html.escape(nonce, quote=True),
    )


_REFUSALS = {
    Refusal.NO_TOKEN: (
        "This page needs its access token.",
        "Open the URL the server printed when it started: it ends in <code>?token=…</code>.",
    ),
    Refusal.BAD_TOKEN: (
        "That access token is not this server's.",
        "Copy the URL again from where the server was started (the token changes every time "
        "the server starts).",
    ),
    Refusal.FOREIGN_ORIGIN: (
        "Refused: the connection came from another site's page.",
        "Open the trainer from the URL the server printed.",
    ),
}


def refusal_page(refusal: Refusal, limit: int = 0) -> str:
    """A short page that says why the request was refused and what to do."""
    if refusal is Refusal.FULL:
        headline = "Every trainer session is in use."
        advice = (
            "Each browser tab runs its own trainer, and this server runs at most "
            f"{plural(limit, 'trainer')} at once. Close one (or quit it with ctrl+q), then "
            "reload this page."
        )
    else:
        headline, advice = _REFUSALS[refusal]
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(TITLE)}</title>"
        "<style>body{background:#0c181f;color:#eee;font-family:monospace;"
        "max-width:40em;margin:4em auto;line-height:1.5}code{color:#ac5af4}</style>"
        f"</head><body><h1>{headline}</h1><p>{advice}</p></body></html>"
    )
