# Two commands do all set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
# A PyTorch wheel index to take torch from, e.g. the CPU-only builds (~200 MB instead of the
# several-GB CUDA build PyPI serves on Linux): make run TORCH_INDEX=https://download.pytorch.org/whl/cpu
TORCH_INDEX ?=
# `make lock` re-resolves constraints.txt with this uv, keeping the current pins where it can
# (`make lock UPGRADE=1` takes the newest versions instead).
UV_VERSION := 0.13.9
LOCK_VENV  := .lock-venv

.PHONY: run test test-web test-slow test-load lint typecheck format lock bench bench-tui bench-web \
	reproduce clean

# Everything pinned by constraints.txt (the lock), build tools included: the editable install
# runs without build isolation, so the pinned setuptools builds it.
$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -c constraints.txt pip setuptools wheel
ifneq ($(strip $(TORCH_INDEX)),)
	$(PY) -m pip install --quiet -c constraints.txt --no-deps --index-url $(TORCH_INDEX) torch
endif
	$(PY) -m pip install --quiet -c constraints.txt --no-build-isolation -e '.[test,dask,web]'
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/miniframe-tui

test: lint typecheck
	$(PY) -m pytest -q -n 2 -m "not slow and not browser"

# The served trainer (miniframe-tui --serve) in a real, headless Chromium driven by
# Playwright: Debian's chromium, installed first when it is missing and we are root (CI).
test-web: $(STAMP)
	sh tools/ensure-chromium.sh
	$(PY) -m pytest -q -m browser tests/web

test-slow: $(STAMP)
	$(PY) -m pytest -q -m slow

# The default suite three times in a row beside two CPU-burning processes (a loaded machine);
# fails if any run fails. The burners are killed at the end, on failure and on Ctrl-C.
test-load: lint typecheck
	PY=$(PY) sh tools/test-load.sh

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

typecheck: $(STAMP)
	$(PY) tools/typecheck.py

format: $(STAMP)
	$(PY) -m ruff format . && $(PY) -m ruff check --fix .

lock:
	$(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/pip install --quiet uv==$(UV_VERSION)
	$(LOCK_VENV)/bin/uv pip compile pyproject.toml tools/build-requirements.in \
	    --extra test --extra dask --extra web --python-version 3.11 --python-platform x86_64-manylinux_2_28 \
	    --custom-compile-command "make lock" --output-file constraints.txt $(if $(UPGRADE),--upgrade)

bench: $(STAMP)
	$(VENV)/bin/miniframe bench

bench-tui: $(STAMP)
	$(PY) benchmarks/tui_bench.py

bench-web: $(STAMP)
	sh tools/ensure-chromium.sh
	$(PY) benchmarks/web_bench.py

reproduce: $(STAMP)
	$(VENV)/bin/miniframe reproduce --seeds 10

clean:
	rm -rf $(VENV) $(LOCK_VENV) build dist *.egg-info
