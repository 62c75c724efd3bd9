"""Atomic writes that honour the umask, write through symlinks, refuse special files and clean
up after themselves (also on SIGTERM/SIGHUP); reads that never block and never take too much."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from miniframe.engine.files import (
    FileError,
    check_writable,
    read_bytes_limited,
    remove_stale_temps,
    write_atomic_bytes,
    write_atomic_text,
    write_target,
)

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX file semantics")


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


# ---- permissions --------------------------------------------------------------------------------
@pytest.mark.parametrize(("umask", "expected"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_new_files_honour_the_umask(tmp_path, umask, expected):
    old = os.umask(umask)
    try:
        write_atomic_text(tmp_path / "f.txt", "x")
    finally:
        os.umask(old)
    assert mode(tmp_path / "f.txt") == expected


def test_a_replaced_file_keeps_its_mode(tmp_path):
    path = tmp_path / "f.txt"
    path.write_text("old")
    path.chmod(0o640)
    write_atomic_text(path, "new")
    assert path.read_text() == "new" and mode(path) == 0o640


# ---- what gets replaced -------------------------------------------------------------------------
def test_writes_go_through_a_symlink(tmp_path):
    target = tmp_path / "real.txt"
    target.write_text("old")
    link = tmp_path / "link.txt"
    link.symlink_to(target)
    write_atomic_text(link, "new")
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_text() == "new"
    assert leftovers(tmp_path) == []


def test_a_dangling_symlink_creates_its_target(tmp_path):
    link = tmp_path / "link.txt"
    link.symlink_to(tmp_path / "sub" / "made.txt")
    write_atomic_text(link, "new")
    assert link.is_symlink() and (tmp_path / "sub" / "made.txt").read_text() == "new"


def test_a_fifo_is_refused_and_kept(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    link = tmp_path / "to-pipe"
    link.symlink_to(fifo)
    for target in (fifo, link):
        with pytest.raises(FileError, match=r"FIFO.*refusing to replace it"):
            write_atomic_bytes(target, b"data")
    assert fifo.is_fifo() and link.is_symlink()
    assert leftovers(tmp_path) == []


def test_a_folder_is_refused(tmp_path):
    with pytest.raises(FileError, match="is a folder; refusing"):
        write_atomic_text(tmp_path, "x")


def test_a_device_is_refused_without_touching_it():
    """Only stats the path: run as root, the old code replaced /dev/null with a file."""
    with pytest.raises(FileError, match="character device; refusing to replace it"):
        write_target("/dev/null")
    with pytest.raises(FileError, match="character device"):
        check_writable("/dev/null")


def test_hard_links_are_broken_not_half_written(tmp_path):
    """The choice: atomic replacement. The other name keeps the old contents."""
    a = tmp_path / "a.txt"
    a.write_text("old")
    b = tmp_path / "b.txt"
    os.link(a, b)
    write_atomic_text(a, "new")
    assert a.read_text() == "new" and b.read_text() == "old"


# ---- temporary files ------------------------------------------------------------------
def test_stale_temporary_files_are_removed_on_the_next_save(tmp_path):
    stale = tmp_path / ".model.safetensors.a1b2c3d4.tmp"
    fresh = tmp_path / ".other.txt.zz99yy88.tmp"
    unrelated = tmp_path / ".notes.tmp"
    for p in (stale, fresh, unrelated):
        p.write_text("partial")
    two_days_ago = time.time() - 2 * 24 * 3600
    os.utime(stale, (two_days_ago, two_days_ago))
    os.utime(unrelated, (two_days_ago, two_days_ago))
    write_atomic_text(tmp_path / "f.txt", "x")
    assert not stale.exists()
    assert fresh.exists() and unrelated.exists()  # in use, perhaps; not ours
    assert remove_stale_temps(tmp_path, max_age=-1) == [fresh]


WRITER = """
import os, signal, sys, time

# The dispositions a terminal session starts with: a runner started under nohup ignores
# SIGHUP, and a signal the process ignores stays ignored (tested below).
signal.signal(signal.SIGTERM, signal.SIG_DFL)
signal.signal(signal.SIGHUP, signal.SIG_DFL)
import miniframe.engine.files as files

def stuck_fsync(fd):
    print("writing", flush=True)
    time.sleep(600)  # a slow disk; the signal arrives now

files.os.fsync = stuck_fsync
files.write_atomic_bytes(sys.argv[1], b"new" * 100_000)
"""


def wait_for_line(proc: subprocess.Popen[str], timeout: float = 60.0) -> str:
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    assert ready, "the writer never started"
    return proc.stdout.readline().strip()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_a_signal_mid_save_removes_the_temporary_file(tmp_path, signum):
    target = tmp_path / "model.bin"
    target.write_bytes(b"old")
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(target)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert wait_for_line(proc) == "writing"
        assert len(leftovers(tmp_path)) == 1  # mid-write: the temporary file exists
        proc.send_signal(signum)
        assert proc.wait(timeout=60) == -signum  # still dies of the signal
    finally:
        proc.kill()
        proc.wait()
    assert leftovers(tmp_path) == []
    assert target.read_bytes() == b"old"


def test_an_ignored_hangup_stays_ignored_mid_save(tmp_path):
    """Under nohup a hang-up must not end the save; SIGTERM still cleans up."""
    target = tmp_path / "model.bin"
    target.write_bytes(b"old")
    script = WRITER.replace("signal.signal(signal.SIGHUP, signal.SIG_DFL)",
                            "signal.signal(signal.SIGHUP, signal.SIG_IGN)")  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "-c", script, str(target)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert wait_for_line(proc) == "writing"
        proc.send_signal(signal.SIGHUP)
        proc.send_signal(signal.SIGTERM)  # handled in order: the hang-up first
        assert proc.wait(timeout=60) == -signal.SIGTERM  # the hang-up did not end it
    finally:
        proc.kill()
        proc.wait()
    assert leftovers(tmp_path) == []
    assert target.read_bytes() == b"old"


# ---- reading --------------------------------------------------------------------------------
def test_reads_are_bounded(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"x" * 100)
    assert read_bytes_limited(path, 100) == b"x" * 100
    with pytest.raises(FileError, match=r"100 bytes is too large for a thing \(limit 99\)"):
        read_bytes_limited(path, 99, "thing")


def test_reads_refuse_special_files_without_blocking(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(FileError, match="FIFO"):
        read_bytes_limited(fifo, 10)
    with pytest.raises(FileError, match="folder"):
        read_bytes_limited(tmp_path, 10)
    with pytest.raises(FileError, match="no such file"):
        read_bytes_limited(tmp_path / "missing", 10)
    if os.path.exists("/dev/zero"):
        with pytest.raises(FileError, match="character device"):
            read_bytes_limited("/dev/zero", 10)


# ---- checking before work ------------------------------------------------------------------------
def test_check_writable(tmp_path):
    assert check_writable(tmp_path / "new.bin") == tmp_path / "new.bin"
    with pytest.raises(FileError, match="does not exist"):
        check_writable(tmp_path / "missing" / "new.bin")
    with pytest.raises(FileError, match="empty file name"):
        check_writable("")
    with pytest.raises(FileError, match="folder"):
        check_writable(tmp_path)
