"""``miniframe-tui --serve``: the trainer in a browser, as safe as Jupyter.

Each browser connection gets its own trainer process (the same ``python -m miniframe.tui``,
driven over textual-serve's protocol and drawn by its page), behind a random token and a
limit on concurrent sessions, bound to loopback unless asked otherwise. The modules:

- :mod:`.options`: the defaults and the command-line options (no web imports: the trainer's
  own start-up reads them);
- :mod:`.gate`: the token and the session slots;
- :mod:`.pages`: the HTML the server sends (the trainer's page, with a local font; the
  refusals);
- :mod:`.sessions`: one trainer process per connection, and how it is ended;
- :mod:`.driver`: the trainer's side: Textual's web driver, leaving signals to the trainer;
- :mod:`.server`: the aiohttp application (routes, the websocket bridge);
- :mod:`.serve`: the command (bind, print the URL, run until Ctrl-C/SIGTERM, stop every
  trainer).

Everything but :mod:`.options` needs the ``web`` extra (``pip install 'miniframe[web]'``).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .options import ServeOptions


def serve(options: ServeOptions, trainer_arguments: list[str]) -> int:
    """Serve the trainer until Ctrl-C/SIGTERM (:mod:`.serve`); the exit status. Without the
    web extra: one line that says how to install it, and status 2."""
    from .options import INSTALL_HINT, missing_extra

    missing = missing_extra()
    if missing is not None:
        print(
            f"miniframe-tui: error: --serve needs the web extra ({missing} is not installed): "
            f"{INSTALL_HINT}",
            file=sys.stderr,
        )
        return 2
    from .serve import serve as run

    return run(options, trainer_arguments)
