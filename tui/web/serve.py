"""The ``--serve`` command: listen, print the URL with its token, serve until told to stop.

Ctrl-C, SIGTERM or SIGHUP (the server's own terminal gone) stop it: no new sessions, then
every trainer gets SIGTERM (its run ends ``interrupted`` in the history) and up to
:data:`~.sessions.END_GRACE_S` to leave before its process group is killed; a second Ctrl-C
kills them at once. The exit status is 128 + the signal's number, as for the trainer.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import ipaddress
import os
import signal
import socket
import sys

from aiohttp import web

from miniframe.engine.plurals import plural

from .gate import Gate, Slots
from .options import ServeOptions, is_loopback
from .server import TrainerServer, say
from .sessions import trainer_command

_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def listen(host: str, port: int) -> socket.socket:
    """A listening socket on ``host``:``port`` (0: any free port). OSError if it cannot."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    family, _, _, _, address = infos[0]
    return socket.create_server(address[:2], family=family, backlog=64, reuse_port=False)


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def urls(host: str, port: int, token: str) -> list[str]:
    """The URLs to print: for a wildcard address, this machine's name and loopback."""
    try:
        wildcard = ipaddress.ip_address(host).is_unspecified
    except ValueError:
        wildcard = False
    hosts = [socket.gethostname(), "127.0.0.1"] if wildcard else [host]
    return [f"http://{_url_host(h)}:{port}/?token={token}" for h in hosts]


def exposure_warning(host: str, port: int) -> str:
    return (
        f"miniframe-tui: warning: listening on {host}, which other machines may reach: anyone "
        f"who can reach port {port} and has the token can run the trainer as you, and the "
        "connection is not encrypted. Prefer the default (127.0.0.1) and an SSH tunnel: "
        f"ssh -L {port}:127.0.0.1:{port} THIS-HOST"
    )


def banner(options: ServeOptions, port: int, token: str) -> str:
    lines = [
        f"miniframe-tui: serving the trainer on http://{_url_host(options.host)}:{port} "
        f"(each browser tab its own trainer, at most {options.max_sessions} at once).",
        "    To open it, copy and paste this URL into a browser (it holds the access token):",
        *(f"        {url}" for url in urls(options.host, port, token)),
    ]
    if is_loopback(options.host):
        lines.append(
            f"    From another machine: ssh -L {port}:127.0.0.1:{port} THIS-HOST, then open "
            "the URL there."
        )
    lines.append("Press Ctrl-C to stop the server and every trainer it started.")
    return "\n".join(lines)


def serve(options: ServeOptions, trainer_arguments: list[str]) -> int:
    """Run the server until a signal stops it; the process's exit status."""
    gc.enable()  # the trainer's start-up turned it off; a server runs for hours
    if not is_loopback(options.host):
        say(exposure_warning(options.host, options.port), sys.stderr)
    try:
        sock = listen(options.host, options.port)
    except OSError as error:
        reason = os.strerror(error.errno) if error.errno else str(error)
        say(
            f"miniframe-tui: error: cannot listen on {options.host}:{options.port}: {reason} "
            "(choose another with --port N; 0 picks a free one)",
            sys.stderr,
        )
        return 2
    gate = Gate()
    server = TrainerServer(trainer_command(trainer_arguments), gate, Slots(options.max_sessions))
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(_serve(server, sock, options))
    finally:
        with contextlib.suppress(Exception):
            loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()
        sock.close()


async def _serve(server: TrainerServer, sock: socket.socket, options: ServeOptions) -> int:
    loop = asyncio.get_running_loop()
    received: list[int] = []
    stop = asyncio.Event()

    def on_signal(signum: int) -> None:
        received.append(signum)
        if len(received) == 1:
            stop.set()
        else:
            say("miniframe-tui: killing every trainer now")
            server.kill()

    for signum in _STOP_SIGNALS:
        loop.add_signal_handler(signum, on_signal, signum)
    runner = web.AppRunner(server.application(), access_log=None, handle_signals=False)
    await runner.setup()
    try:
        site = web.SockSite(runner, sock, shutdown_timeout=5.0)
        await site.start()
        say(banner(options, sock.getsockname()[1], server.gate.token))
        await stop.wait()
        count = len(server.sessions)
        say(f"miniframe-tui: stopping: ending {plural(count, 'trainer')}")
        await server.stop()
    finally:
        await runner.cleanup()
        for signum in _STOP_SIGNALS:
            loop.remove_signal_handler(signum)
    say("miniframe-tui: stopped")
    return 128 + received[0]
