"""``miniframe-tui --serve`` as a real process, driven over HTTP and websockets (no browser:
the browser tests are in ``test_browser.py``): refusals without the token, the session limit,
and that stopping the server (or losing it) ends every trainer it started, by pid, with their
runs ``interrupted`` in the history."""

from __future__ import annotations

import asyncio
import signal
import socket
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest
from web_helpers import (
    FIRST_LAYER,
    READY,
    STOP_TIMEOUT,
    Server,
    Terminal,
    alive,
    runs_of,
    until,
)

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")


def children(pid: int) -> list[int]:
    """The processes ``pid`` started that are still its children."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


async def connect(
    client: aiohttp.ClientSession, server: Server, token: str | None = None
) -> Terminal:
    path = f"/ws/{server.token if token is None else token}"
    websocket = await client.ws_connect(f"ws://127.0.0.1:{server.port}{path}?width=100&height=30")
    return Terminal(websocket)


async def refused_websocket(client: aiohttp.ClientSession, url: str, **kwargs) -> int:
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await client.ws_connect(url, **kwargs)
    return refused.value.status


def test_without_the_token_page_and_websocket_are_refused(serve) -> None:
    server = serve()

    async def check() -> None:
        async with aiohttp.ClientSession() as client:
            async with client.get(f"{server.base}/") as r:
                assert r.status == 401
                assert "WWW-Authenticate" in r.headers
                assert "needs its access token" in await r.text()
            async with client.get(f"{server.base}/?token=not-the-token") as r:
                assert r.status == 403
            async with client.get(f"{server.base}/?token={server.token[:-1]}") as r:
                assert r.status == 403
            async with client.get(server.url) as r:
                assert r.status == 200
                page = await r.text()
                assert f'"ws://127.0.0.1:{server.port}/ws/{server.token}"' in page
                assert "default-src 'none'" in r.headers["Content-Security-Policy"]
                assert r.headers["Cache-Control"] == "no-store"
                assert r.headers["Referrer-Policy"] == "no-referrer"
            ws = f"ws://127.0.0.1:{server.port}/ws"
            assert await refused_websocket(client, ws) == 401
            assert await refused_websocket(client, f"{ws}/") == 401
            assert await refused_websocket(client, f"{ws}/not-the-token") == 403
            # the right token, from another site's page
            origin = {"Origin": "http://evil.example"}
            assert await refused_websocket(client, f"{ws}/{server.token}", headers=origin) == 403
            # textual-serve's files are public; its folder is not listed
            async with client.get(f"{server.base}/static/js/textual.js") as r:
                assert r.status == 200
            async with client.get(f"{server.base}/static/") as r:
                assert r.status in (403, 404)

    asyncio.run(check())
    assert "session" not in server.output()  # no trainer was started for any of them
    assert children(server.proc.pid) == []


def test_one_session_at_a_time_when_the_limit_is_one(serve) -> None:
    """Full: a clear page (503) and a refused websocket; a trainer that quits frees its slot;
    closing the browser's connection ends its trainer and its run ends interrupted."""
    server = serve("--max-sessions", "1")

    async def check() -> None:
        async with aiohttp.ClientSession() as client:
            first = await connect(client, server)
            (pid,) = await until(lambda: server.opened(), "the first trainer")
            await first.wait_text(FIRST_LAYER)  # its screen reaches us
            async with client.get(server.url) as r:
                assert r.status == 503
                assert "Every trainer session is in use" in await r.text()
            ws = f"ws://127.0.0.1:{server.port}/ws/{server.token}"
            assert await refused_websocket(client, ws) == 503
            assert len(server.opened()) == 1

            await first.key("\x11")  # ctrl+q in the trainer: it quits, the server closes
            await until(lambda: first.reader.done(), "the connection to close")
            await until(lambda: pid in server.closed(), "the session to end")
            assert f"trainer pid {pid} quit" in server.output()
            assert not alive(pid)

            async with client.get(server.url) as r:
                assert r.status == 200  # the slot is free again
            second = await connect(client, server)
            _, pid2 = await until(lambda: server.opened()[1:] and server.opened(), "trainer 2")
            await second.wait_text(READY)
            await second.key("t")
            await until(lambda: any(r.epochs >= 2 for r in runs_of(server.data, pid2)), "epochs")
            await second.websocket.close()  # the tab goes away
            await until(lambda: not alive(pid2), "the trainer to end", timeout=STOP_TIMEOUT)
            await until(lambda: pid2 in server.closed(), "the session to end")
            assert [r.status for r in runs_of(server.data, pid2)] == ["interrupted"]
            async with client.get(server.url) as r:
                assert r.status == 200

    asyncio.run(check())
    assert server.proc.poll() is None  # the server goes on


async def train(client: aiohttp.ClientSession, server: Server, count: int) -> list[int]:
    """Open ``count`` sessions, start training in each; their trainer pids, once each has
    recorded a few epochs."""
    terminals = [await connect(client, server) for _ in range(count)]
    pids = await until(lambda: len(server.opened()) >= count and server.opened(), "trainers")
    for terminal in terminals:
        await terminal.wait_text(READY)
        await terminal.key("t")
    for pid in pids:
        await until(lambda p=pid: any(r.epochs >= 2 for r in runs_of(server.data, p)), "epochs")
    return pids


@pytest.mark.parametrize(("signum", "sessions"), [(signal.SIGTERM, 2), (signal.SIGINT, 1)])
def test_stopping_the_server_ends_every_trainer(serve, signum, sessions) -> None:
    server = serve()
    config = server.proc.args[server.proc.args.index("--config") + 1]

    async def check() -> list[int]:
        async with aiohttp.ClientSession() as client:
            pids = await train(client, server, sessions)  # their connections stay open
            for pid in pids:  # each trainer runs the server's arguments, as its own process
                argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[:-1]
                assert [a.decode() for a in argv[1:]] == ["-m", "miniframe.tui", "--config", config]
            assert sorted(children(server.proc.pid)) == sorted(pids)
            assert await asyncio.to_thread(server.stop, signum) == 128 + signum
            return pids

    pids = asyncio.run(check())
    assert [pid for pid in pids if alive(pid)] == []
    for pid in pids:
        assert [r.status for r in runs_of(server.data, pid)] == ["interrupted"]
    out = server.output()
    assert f"stopping: ending {sessions} trainer" in out and out.rstrip().endswith("stopped")


def test_trainers_leave_when_the_server_is_killed(serve) -> None:
    """SIGKILL gives the server no chance to end its trainers: each one gets SIGHUP from the
    kernel (its parent-death signal) and leaves as if its terminal had gone."""
    server = serve()

    async def check() -> list[int]:
        async with aiohttp.ClientSession() as client:
            pids = await train(client, server, 1)
            server.proc.kill()
            await asyncio.to_thread(server.proc.wait, STOP_TIMEOUT)
            await until(lambda: not any(alive(p) for p in pids), "the trainer to leave")
            return pids

    pids = asyncio.run(check())
    assert [r.status for r in runs_of(server.data, pids[0])] == ["interrupted"]


def test_a_public_host_is_warned_about_and_both_urls_printed(serve) -> None:
    server = serve("--host", "0.0.0.0")
    out = server.output()
    assert "warning: listening on 0.0.0.0" in out and "ssh -L" in out
    assert f"http://{socket.gethostname()}:{server.port}/?token={server.token}" in out
    assert server.stop() == 143


def test_the_default_host_is_loopback_and_not_warned_about(serve) -> None:
    server = serve()
    out = server.output()
    assert "warning" not in out
    assert f"ssh -L {server.port}:127.0.0.1:{server.port}" in out
    sockets = [line.split() for line in Path("/proc/net/tcp").read_text().splitlines()[1:]]
    sockets += [line.split() for line in Path("/proc/net/tcp6").read_text().splitlines()[1:]]
    port = f":{server.port:04X}"
    listening = [s[1] for s in sockets if s[1].endswith(port) and s[3] == "0A"]  # LISTEN
    assert listening == [f"0100007F{port}"]  # 127.0.0.1 only


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "miniframe.tui", *args],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def test_a_port_in_use_is_one_clear_line() -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        out = run_cli("--serve", "--port", str(port))
    assert out.returncode == 2
    assert out.stderr.strip() == (
        f"miniframe-tui: error: cannot listen on 127.0.0.1:{port}: Address already in use "
        "(choose another with --port N; 0 picks a free one)"
    )
    assert out.stdout == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--serve", "--preset", "nope"], "unknown preset 'nope'"),
        (["--serve", "--port", "70000"], "port 70000 is not in 0-65535"),
        (["--serve", "--max-sessions", "0"], "0 is not in 1-64"),
        (["--serve", "--host", ""], "empty host"),
        (["--port", "8000"], "--port needs --serve"),
    ],
)
def test_bad_serving_arguments_fail_before_serving(args, message) -> None:
    out = run_cli(*args)
    assert out.returncode == 2
    assert message in out.stderr and out.stderr.count("\n") == 1
    assert "serving" not in out.stdout
