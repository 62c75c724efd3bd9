"""End to end: the real ``python -m miniframe.tui`` in a tmux pseudo-terminal at 80×24.

It launches, shows the layer stack, trains a tiny run to the end, and quits on ctrl+q; and it
exits (instead of spinning) when its terminal goes away.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from tui_helpers import tiny_spec

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")


#: A tmux server of this test process's own: another user of the default server (a developer
#: capturing screens, ``tmux kill-server``) can't end these sessions under the test.
SOCKET = f"mf-test-{os.getpid()}"


def tmux(*args: str) -> str:
    return subprocess.run(
        ["tmux", "-L", SOCKET, *args], capture_output=True, text=True, timeout=10
    ).stdout


@pytest.fixture(scope="module", autouse=True)
def _own_tmux_server():
    yield
    tmux("kill-server")


def screen(session: str) -> str:
    return tmux("capture-pane", "-p", "-t", session)


def wait_screen(session: str, needle: str, timeout: float = 30.0) -> str:
    deadline = time.monotonic() + timeout
    text = ""
    while time.monotonic() < deadline:
        text = screen(session)
        if needle in text:
            return text
        time.sleep(0.1)
    raise AssertionError(f"{needle!r} not on screen:\n{text}")


def launch(tmp_path: Path, epochs: int) -> tuple[str, Path, Path]:
    config = tmp_path / "run.toml"
    config.write_text(tiny_spec(epochs=epochs).to_toml())
    pid_file, rc_file = tmp_path / "pid", tmp_path / "rc"
    session = f"mf-{uuid.uuid4().hex[:8]}"
    env = f"MINIFRAME_CONFIG_DIR={shlex.quote(str(tmp_path / 'cfg'))} TERM=xterm-256color"
    cmd = (
        f"echo $$ > {pid_file}; cd {shlex.quote(os.getcwd())}; "
        f"exec env {env} {shlex.quote(sys.executable)} -m miniframe.tui --config {config}"
    )
    wrapper = f"bash -c {shlex.quote(cmd)}; echo $? > {rc_file}"
    tmux(
        "new-session",
        "-d",
        "-s",
        session,
        "-x",
        "80",
        "-y",
        "24",
        f"bash -c {shlex.quote(wrapper)}",
    )
    return session, pid_file, rc_file


def test_launch_train_and_quit_in_a_terminal(tmp_path) -> None:
    session, _, rc_file = launch(tmp_path, epochs=5)
    try:
        wait_screen(session, "Linear 2 → 8")
        wait_screen(session, "ready")  # torch loaded in the background
        tmux("send-keys", "-t", session, "t")
        text = wait_screen(session, "finished")
        assert "epoch 5/5" in text
        tmux("send-keys", "-t", session, "C-q")
        deadline = time.monotonic() + 10
        while not rc_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert rc_file.read_text().strip() == "0"
    finally:
        tmux("kill-session", "-t", session)


def alive(pid: int) -> bool:
    """Running (an exited zombie waiting to be reaped by init does not count)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True
    return state not in ("Z", "X")


def test_exits_when_the_terminal_hangs_up(tmp_path) -> None:
    session, pid_file, _ = launch(tmp_path, epochs=10**6)
    try:
        wait_screen(session, "Linear 2 → 8")
        tmux("send-keys", "-t", session, "t")
        wait_screen(session, "running")
        pid = int(pid_file.read_text())
    finally:
        tmux("kill-session", "-t", session)  # closes the pty: SIGHUP
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if not alive(pid):
            return
        time.sleep(0.1)
    os.kill(pid, 9)
    raise AssertionError("the app kept running after its terminal went away")


def test_two_enters_in_one_read_do_not_crash_the_trainer(tmp_path) -> None:
    """The reported repro: open the preset picker, then Enter Enter in one send-keys: the
    preset loads and the trainer lives on (it used to exit 1 with "Can't pop screen").
    tmux may write the two keys in one read or two; when the second comes after the picker
    closed, it edits the highlighted layer, as a second key press should; ctrl+q (a
    priority key) then quits from whatever is on screen. Every dialog's double Enter in
    one read is covered in test_tui_dialogs."""
    session, _, rc_file = launch(tmp_path, epochs=5)
    try:
        wait_screen(session, "Linear 2 → 8")
        wait_screen(session, "palette")  # the footer (its last key): every panel is up
        tmux("send-keys", "-t", session, "o")
        wait_screen(session, "Load preset")
        tmux("send-keys", "-t", session, "Enter", "Enter")
        wait_screen(session, "Loaded preset")
        assert not rc_file.exists(), "the trainer exited"
        tmux("send-keys", "-t", session, "C-q")
        deadline = time.monotonic() + 10
        while not rc_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert rc_file.read_text().strip() == "0"
    finally:
        tmux("kill-session", "-t", session)
