"""Shared test set-up: one intra-op thread per test process, an empty user config folder and
a run history of its own.

The engine's matrices are tiny; with pytest-xdist on two cores, torch's default thread pool per
worker oversubscribes the CPUs and slows training tests tens of times. Set before torch loads
(this file imports no torch, so tests that check what gets imported are unaffected).
"""

import atexit
import os
import shutil
import signal
import sys
import tempfile

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

if "torch" in sys.modules:  # loaded early by a plugin: the variables came too late
    sys.modules["torch"].set_num_threads(1)

# A suite started in the background by a shell without job control (`make test &` in a
# script) inherits SIGINT ignored, and so would every process it starts: the Ctrl-C tests'
# subprocesses would never see their SIGINT. Give the test process Python's usual handler, so
# that its subprocesses start with SIGINT at its default, as from a terminal.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

# The user's own presets must not change what the tests see (a user "quick" would shadow the
# built-in one): every test run starts with an empty user config folder. Tests that need one
# point MINIFRAME_CONFIG_DIR at their own.
_CONFIG = tempfile.mkdtemp(prefix="miniframe-test-config-")
os.environ["MINIFRAME_CONFIG_DIR"] = _CONFIG
atexit.register(shutil.rmtree, _CONFIG, ignore_errors=True)

# Likewise the run history: every run the tests train (CLI commands in this process or in
# subprocesses) is recorded in a database of this test process's own, never the user's.
_DATA = tempfile.mkdtemp(prefix="miniframe-test-data-")
os.environ["MINIFRAME_DATA_DIR"] = _DATA
atexit.register(shutil.rmtree, _DATA, ignore_errors=True)
