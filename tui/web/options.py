"""The ``--serve`` options of ``miniframe-tui``: their defaults (one table), their parsing,
and the trainer arguments each browser session is started with.

Imported by the trainer's own argument parsing, so it imports nothing from the web extra.
"""

from __future__ import annotations

import argparse
import ipaddress
import socket
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path

#: Loopback only: reachable from this machine (and through ``ssh -L``), from no other.
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
#: Trainer processes at once: each holds torch (~300 MB) and a core when it trains.
DEFAULT_MAX_SESSIONS = 4
#: The most sessions ``--max-sessions`` accepts.
MAX_SESSIONS_LIMIT = 64
#: The extra that ``--serve`` needs, and the one line that says how to install it.
INSTALL_HINT = "pip install 'miniframe[web]'"

_SERVE_ONLY = ("host", "port", "max_sessions")
#: What ``--serve`` imports from the web extra.
_EXTRA_MODULES = ("aiohttp", "textual_serve")


@dataclass(frozen=True)
class ServeOptions:
    """Where and how to serve."""

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    max_sessions: int = DEFAULT_MAX_SESSIONS


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port {port} is not in 0-65535 (0: any free port)")
    return port


def _sessions(text: str) -> int:
    try:
        count = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if not 1 <= count <= MAX_SESSIONS_LIMIT:
        raise argparse.ArgumentTypeError(f"{count} is not in 1-{MAX_SESSIONS_LIMIT}")
    return count


def _host(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("empty host (127.0.0.1 is loopback, 0.0.0.0 is every "
                                         "interface)")  # fmt: skip
    return text.strip()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``--serve`` group to the trainer's parser."""
    group = parser.add_argument_group(
        "in a browser",
        "serve the trainer to web browsers; each connection gets its own trainer, started "
        "with the arguments above",
    )
    group.add_argument(
        "--serve", action="store_true", help=f"serve the trainer over HTTP (needs {INSTALL_HINT})"
    )
    group.add_argument(
        "--host",
        type=_host,
        metavar="H",
        help=f"address to listen on (default {DEFAULT_HOST}, this machine only; "
        "prefer ssh -L to reach it from elsewhere)",
    )
    group.add_argument(
        "--port",
        type=_port,
        metavar="N",
        help=f"port to listen on (default {DEFAULT_PORT}; 0: any free port)",
    )
    group.add_argument(
        "--max-sessions",
        type=_sessions,
        metavar="N",
        help=f"trainers running at once (default {DEFAULT_MAX_SESSIONS})",
    )


def serve_options(args: argparse.Namespace) -> ServeOptions | None:
    """The options when ``--serve`` was given, else None. ValueError (one line) for a
    serving option given without ``--serve``."""
    if not args.serve:
        given = [name for name in _SERVE_ONLY if getattr(args, name) is not None]
        if given:
            flag = "--" + given[0].replace("_", "-")
            raise ValueError(f"{flag} needs --serve")
        return None
    return ServeOptions(
        host=args.host if args.host is not None else DEFAULT_HOST,
        port=args.port if args.port is not None else DEFAULT_PORT,
        max_sessions=args.max_sessions or DEFAULT_MAX_SESSIONS,
    )


def trainer_arguments(args: argparse.Namespace) -> list[str]:
    """The command-line arguments every served trainer gets: the same start (preset, config
    or checkpoint, as absolute paths), theme and recording as the server was given."""
    argv: list[str] = []
    if args.preset is not None:
        argv += ["--preset", str(args.preset)]
    for flag, value in (("--config", args.config), ("--checkpoint", args.checkpoint)):
        if value is not None:
            argv += [flag, str(Path(value).resolve())]
    if args.theme:
        argv += ["--theme", args.theme]
    if args.no_record:
        argv.append("--no-record")
    return argv


def missing_extra() -> str | None:
    """The first package of the web extra that cannot be imported, or None."""
    for name in _EXTRA_MODULES:
        try:
            import_module(name)
        except ImportError:
            return name
    return None


def is_loopback(host: str) -> bool:
    """Whether every address ``host`` names is a loopback address (127.0.0.0/8, ::1), so that
    nothing outside this machine can connect. A name that does not resolve is not."""
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return False
    addresses = {str(info[4][0]).split("%")[0] for info in infos}
    return bool(addresses) and all(ipaddress.ip_address(a).is_loopback for a in addresses)
