"""Shared test set-up: one intra-op thread per test process.

The engine's matrices are tiny; with pytest-xdist on two cores, torch's default thread pool per
worker oversubscribes the CPUs and slows training tests tens of times. Set before torch loads
(this file imports no torch, so tests that check what gets imported are unaffected).
"""

import os
import sys

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

if "torch" in sys.modules:  # loaded early by a plugin: the variables came too late
    sys.modules["torch"].set_num_threads(1)
