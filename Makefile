# Two entry points on a fresh machine: `make demo` (the offline demo) and `make test`.
# Both create .venv first (Python 3.11; torch/torchvision pinned to the releases served locally)
# and install every extra plus the dev tools: '.[all,dev]'.
VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON ?= python3
TORCH ?= torch==2.14.1 torchvision==0.29.1

.PHONY: demo test lint bench

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet $(TORCH)
	$(PY) -m pip install --quiet -e '.[all,dev]'
	touch $@

demo: $(VENV)/.installed
	$(VENV)/bin/vtrsearch demo vtrsearch-demo

test: $(VENV)/.installed
	$(PY) -m pytest -q

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .

bench: $(VENV)/.installed
	$(PY) bench/search_latency.py
