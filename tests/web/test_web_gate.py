"""The pieces of ``--serve`` that decide, without a server: the token, the origin check, the
session slots, the options, and the pages (nothing loaded from elsewhere)."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import pytest

from miniframe.tui.__main__ import build_parser
from miniframe.tui.web.gate import Gate, Refusal, Slots, same_origin
from miniframe.tui.web.options import (
    DEFAULT_HOST,
    DEFAULT_MAX_SESSIONS,
    DEFAULT_PORT,
    is_loopback,
    serve_options,
    trainer_arguments,
)
from miniframe.tui.web.pages import content_security_policy, refusal_page, trainer_page


def test_the_token_is_random_long_and_checked_exactly() -> None:
    gates = [Gate() for _ in range(20)]
    tokens = {g.token for g in gates}
    assert len(tokens) == 20  # a new secret every time
    assert all(len(t) >= 43 and re.fullmatch(r"[A-Za-z0-9_-]+", t) for t in tokens)
    gate = gates[0]
    assert gate.check(gate.token) is None
    assert gate.check(None) is Refusal.NO_TOKEN
    assert gate.check("") is Refusal.NO_TOKEN
    assert gate.check(gates[1].token) is Refusal.BAD_TOKEN
    assert gate.check(gate.token[:-1]) is Refusal.BAD_TOKEN  # a prefix is not the token
    assert gate.check(gate.token + "x") is Refusal.BAD_TOKEN
    assert gate.check("é" + gate.token) is Refusal.BAD_TOKEN  # not ASCII: no exception
    assert (Refusal.NO_TOKEN.status, Refusal.BAD_TOKEN.status) == (401, 403)
    assert (Refusal.FOREIGN_ORIGIN.status, Refusal.FULL.status) == (403, 503)


@pytest.mark.parametrize(
    ("origin", "host", "same"),
    [
        (None, "127.0.0.1:8000", True),  # not a browser: only the token counts
        ("http://127.0.0.1:8000", "127.0.0.1:8000", True),
        ("http://LOCALHOST:9000", "localhost:9000", True),  # through ssh -L 9000:…
        ("http://127.0.0.1:8001", "127.0.0.1:8000", False),  # another local server's page
        ("https://evil.example", "127.0.0.1:8000", False),
        ("null", "127.0.0.1:8000", False),  # a sandboxed frame, a file: page
        ("http://127.0.0.1:8000", None, False),
    ],
)
def test_a_websocket_must_come_from_the_servers_own_page(origin, host, same) -> None:
    assert same_origin(origin, host) is same


def test_slots_count_sessions_up_to_the_limit() -> None:
    slots = Slots(2)
    assert slots.take() and slots.take()
    assert slots.full and not slots.take()
    slots.release()
    assert not slots.full and slots.take()
    slots.release()
    slots.release()
    with pytest.raises(RuntimeError):
        slots.release()
    with pytest.raises(ValueError):
        Slots(0)


def parse(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(list(argv))


def test_serve_options_defaults_and_flags() -> None:
    assert serve_options(parse()) is None
    options = serve_options(parse("--serve"))
    assert options is not None
    assert (options.host, options.port, options.max_sessions) == (
        DEFAULT_HOST,
        DEFAULT_PORT,
        DEFAULT_MAX_SESSIONS,
    )
    assert DEFAULT_HOST == "127.0.0.1" and DEFAULT_PORT == 8000
    options = serve_options(parse("--serve", "--host", "::1", "--port", "0", "--max-sessions", "2"))
    assert options is not None and (options.host, options.port, options.max_sessions) == (
        "::1",
        0,
        2,
    )


@pytest.mark.parametrize(
    "flag", [["--host", "0.0.0.0"], ["--port", "9000"], ["--max-sessions", "2"]]
)
def test_a_serving_option_without_serve_is_an_error(flag) -> None:
    with pytest.raises(ValueError, match=f"{flag[0]} needs --serve"):
        serve_options(parse(*flag))


def test_every_trainer_gets_the_servers_start_with_absolute_paths(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("run.toml").write_text("")
    args = parse("--serve", "--config", "run.toml", "--theme", "ansi", "--no-record")
    assert trainer_arguments(args) == [
        "--config",
        str(tmp_path / "run.toml"),
        "--theme",
        "ansi",
        "--no-record",
    ]
    assert trainer_arguments(parse("--serve", "--preset", "deep")) == ["--preset", "deep"]
    assert trainer_arguments(parse("--serve")) == []


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.0.0.2", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.0.2.1", False),  # TEST-NET: any real interface address
        ("no-such-host.invalid", False),
    ],
)
def test_what_counts_as_loopback(host, loopback) -> None:
    assert is_loopback(host) is loopback


def test_the_page_loads_nothing_from_elsewhere() -> None:
    page = trainer_page("ws://127.0.0.1:8000/ws/TOKEN", nonce="N0NCE")
    # every resource it names is this server's (a path) or inline (data:)
    links = re.findall(r'(?:href|src)="([^"]*)"|url\("?([^")]*)', page)
    assert len(links) >= 4
    for link in ("".join(pair) for pair in links):
        assert link.startswith("/static/") or link == "data:,", link
    assert "googleapis" not in page and "http:" not in page and "https:" not in page
    assert 'src="/static/js/textual.js"' in page
    assert "/static/fonts/RobotoMono" in page  # the font, served locally
    assert 'data-session-websocket-url="ws://127.0.0.1:8000/ws/TOKEN"' in page
    assert '<script nonce="N0NCE">' in page
    policy = content_security_policy("N0NCE")
    assert "default-src 'none'" in policy and "'nonce-N0NCE'" in policy
    assert "http" not in policy  # no other host allowed, for anything


def test_the_page_escapes_what_it_is_given() -> None:
    page = trainer_page('ws://h"><script>x</script>/ws/t', nonce="n")
    assert "<script>x</script>" not in page


@pytest.mark.parametrize("refusal", list(Refusal))
def test_each_refusal_says_what_to_do(refusal) -> None:
    page = refusal_page(refusal, limit=4)
    assert page.startswith("<!DOCTYPE html>") and "<h1>" in page
    if refusal is Refusal.FULL:
        assert "Every trainer session is in use" in page and "reload" in page
        assert "at most 4 trainers at once" in page
        assert "at most 1 trainer at once" in refusal_page(refusal, limit=1)
    if refusal is Refusal.NO_TOKEN:
        assert "?token=" in page


def test_serve_without_the_web_extra_says_how_to_install_it(monkeypatch, capsys) -> None:
    from miniframe.tui.__main__ import main

    monkeypatch.setitem(sys.modules, "textual_serve", None)  # as if not installed
    assert main(["--serve", "--port", "0"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0, err  # one line
    assert "pip install 'miniframe[web]'" in err and "textual_serve" in err
