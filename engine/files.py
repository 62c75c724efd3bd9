"""Files: atomic writes that never leave half a file, and reads that never take more than asked.

Writes (:func:`write_atomic_bytes`, :func:`write_atomic_text`) go to a temporary file beside the
target, are flushed to disk, then renamed over it: a crash, a full disk or a signal leaves
either the old file or the new one. They

- honour the umask for a new file (0666 & ~umask, as ``open()`` would) and keep the mode of a
  file they replace;
- write *through* a symbolic link: the link stays, the file it points to is replaced;
- refuse targets that are not regular files (a folder, a FIFO, a device such as /dev/null):
  replacing those would destroy them;
- replace a hard-linked file with a new file: its other names keep the old contents (a rename
  is what makes the write atomic; writing in place would risk half a file);
- remove their temporary file when SIGTERM or SIGHUP arrives mid-write (see
  :func:`install_signal_cleanup`), and remove stale ``.NAME.XXXXXXXX.tmp`` files older than a
  day, left by a process that could not clean up (SIGKILL, power loss), from the target folder.

Reads (:func:`read_bytes_limited`) refuse anything but a regular file without ever opening a
FIFO for reading (which would block), and refuse files larger than the caller's limit.

An output never replaces an input: :func:`check_output` refuses a path that is the same file
as one a command reads (its data, checkpoint, config) or keeps (the run history), compared by
identity (device and inode, through links), not by spelling. Every command line output flag
and the trainer's save dialogs go through it before any work is done.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import stat
import tempfile
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from types import FrameType

from .errors import FileError as FileError  # callers import it from here too

STALE_SECONDS = 24 * 3600
_TEMP_RE = re.compile(r"^\..+\.[A-Za-z0-9_]{8}\.tmp$")  # mkstemp's names: .NAME.XXXXXXXX.tmp


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


# ---- reading -------------------------------------------------------------------------------
def read_bytes_limited(path: str | Path, limit: int, what: str = "file") -> bytes:
    """The bytes of the regular file ``path``, if it holds at most ``limit`` of them.

    FileError for a missing or unreadable path, a folder, FIFO, device or socket (a FIFO is
    never opened, so this never blocks) and a file over ``limit`` bytes (the limit is named).
    """
    p = Path(path)
    try:
        st = os.stat(p)
    except FileNotFoundError:
        raise FileError(f"{p}: no such file") from None
    except OSError as e:
        raise FileError(f"{p}: cannot read ({e.strerror or e})") from None
    if not stat.S_ISREG(st.st_mode):
        raise FileError(f"{p}: is {_kind(st.st_mode)}, not a {what}")
    if st.st_size > limit:
        raise FileError(f"{p}: {st.st_size:,} bytes is too large for a {what} (limit {limit:,})")
    try:
        # O_NONBLOCK: should the path have become a FIFO since the stat, open does not wait.
        fd = os.open(p, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError as e:
        raise FileError(f"{p}: cannot read ({e.strerror or e})") from None
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise FileError(f"{p}: is {_kind(os.fstat(fd).st_mode)}, not a {what}")
        data = f.read(limit + 1)
    if len(data) > limit:  # it grew since the stat
        raise FileError(f"{p}: too large for a {what} (limit {limit:,} bytes)")
    return data


# ---- checking a target before writing --------------------------------------------------------
def write_target(path: str | Path) -> Path:
    """The file a write to ``path`` replaces: ``path`` itself, or the file a symbolic link at
    ``path`` points to (the link is kept). FileError when it exists and is not a regular file."""
    p = Path(path)
    target = Path(os.path.realpath(p)) if p.is_symlink() else p
    try:
        st = os.stat(target)
    except FileNotFoundError:
        return target
    except OSError as e:
        raise FileError(f"{path}: cannot write ({e.strerror or e})") from None
    if not stat.S_ISREG(st.st_mode):
        link = f" (a link to {target})" if target != p else ""
        raise FileError(f"{path}{link}: is {_kind(st.st_mode)}; refusing to replace it")
    return target


def check_writable(path: str | Path) -> Path:
    """Check, before any work is done, that a file can be written at ``path``: its folder
    exists and is writable, and the path is not a folder, FIFO or device. Returns the file a
    write will replace (see :func:`write_target`)."""
    if str(path) == "":
        raise FileError("empty file name")
    target = write_target(path)
    folder = target.parent
    if not folder.is_dir():
        raise FileError(f"{path}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise FileError(f"{path}: folder {folder} is not writable")
    return target


def same_file(a: str | Path, b: str | Path) -> bool:
    """Whether ``a`` and ``b`` name one file: the same device and inode when both exist
    (through symbolic and hard links, ``./x`` and ``x`` alike), else the same place once every
    link in their paths is resolved (a file about to be created where the other will be)."""
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist (yet), or cannot be looked at
        pass
    try:
        return os.path.realpath(a) == os.path.realpath(b)
    except (OSError, ValueError):
        return False


def check_output(
    path: str | Path, inputs: Iterable[tuple[str, str | Path | None]], flag: str = ""
) -> None:
    """FileError if writing ``path`` would replace one of ``inputs``: (what it is, its path)
    pairs, e.g. ``("training data", "d.csv")``; None paths are skipped. ``flag`` names the
    option the output came from, for the message (``--save``)."""
    shown = f"{flag} {path}" if flag else str(path)
    for what, source in inputs:
        if source is None or str(source) == "":
            continue
        if same_file(path, source):
            also = "" if str(source) == str(path) else f" ({source})"
            raise FileError(
                f"{shown}: is the {what}{also}; an output never replaces an input: choose "
                "another file"
            )


# ---- writing -------------------------------------------------------------------------------
def write_atomic_text(path: str | Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically; see :func:`write_atomic_bytes`."""
    write_atomic_bytes(path, text.encode("utf-8"))


def write_atomic_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically: a temporary file beside it, fsync, rename.

    Missing folders are created. FileError (and nothing written) when the target is not a
    regular file, and when the system refuses (a read-only folder, a full disk: the message
    names ``path`` and the system's reason, never the temporary file; the old file is then
    intact).
    """
    target = write_target(path)
    try:
        _write_atomic(target, data)
    except OSError as e:
        folder = target.parent
        if not folder.is_dir():
            why = f"folder {folder} cannot be created ({e.strerror or e})"
        elif not os.access(folder, os.W_OK | os.X_OK):
            why = f"folder {folder} is not writable"
        else:
            why = f"cannot write ({e.strerror or e})"
        raise FileError(f"{path}: {why}") from None


def _write_atomic(target: Path, data: bytes) -> None:
    folder = target.parent
    folder.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(folder)
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode)  # replacing: keep its permissions
    except FileNotFoundError:
        mode = 0o666 & ~_umask()  # new: what open() would have given it
    if threading.current_thread() is threading.main_thread():
        install_signal_cleanup()
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.", suffix=".tmp")
    _PENDING.add(tmp)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fchmod(f.fileno(), mode)  # mkstemp made it 0600
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    finally:
        _PENDING.discard(tmp)
    _fsync_folder(folder)


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable (best effort: not every platform opens folders)."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _umask() -> int:
    """The process umask, read without changing it (os.umask sets it, racing other threads)."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    with _UMASK_LOCK:
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


_UMASK_LOCK = threading.Lock()


def remove_stale_temps(folder: str | Path, max_age: float = STALE_SECONDS) -> list[Path]:
    """Remove this module's temporary files (``.NAME.XXXXXXXX.tmp``) in ``folder`` older than
    ``max_age`` seconds: leftovers of a process killed mid-write. Returns what was removed."""
    removed: list[Path] = []
    now = time.time()
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        if not _TEMP_RE.match(entry.name):
            continue
        with contextlib.suppress(OSError):
            st = entry.stat(follow_symlinks=False)
            if stat.S_ISREG(st.st_mode) and now - st.st_mtime > max_age:
                os.unlink(entry.path)
                removed.append(Path(entry.path))
    return removed


# ---- signals -------------------------------------------------------------------------------
_PENDING: set[str] = set()  # temporary files being written right now
_INSTALLED: dict[int, object] = {}  # signal -> the handler ours replaced
_CLEANUP_SIGNALS = tuple(getattr(signal, n) for n in ("SIGTERM", "SIGHUP") if hasattr(signal, n))


def remove_pending_temps() -> None:
    """Remove the temporary files of writes in progress (for a signal handler about to exit)."""
    for tmp in list(_PENDING):
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        _PENDING.discard(tmp)


def _on_signal(signum: int, frame: FrameType | None) -> None:
    remove_pending_temps()
    previous = _INSTALLED.get(signum, signal.SIG_DFL)
    if callable(previous):
        previous(signum, frame)
    elif previous == signal.SIG_DFL:
        # Die of the signal as if no handler had been installed (exit status says so).
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)


def install_signal_cleanup() -> None:
    """Chain a SIGTERM/SIGHUP handler that first removes the temporary files of writes in
    progress, then does what the previous handler did (by default: die of the signal).

    Called by the writers when they run in the main thread (only it may set handlers); a
    program that writes from other threads calls it once at start-up. Idempotent; it leaves
    alone a signal whose handler is already ignoring it, and one set after this call (whose
    owner can call :func:`remove_pending_temps` itself).
    """
    if threading.current_thread() is not threading.main_thread():
        return
    for signum in _CLEANUP_SIGNALS:
        current = signal.getsignal(signum)
        if current is _on_signal or current == signal.SIG_IGN or current is None:
            continue
        _INSTALLED[signum] = current
        signal.signal(signum, _on_signal)
