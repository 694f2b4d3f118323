# trialnb: two commands do all the set-up on a fresh machine with Python 3 and make.
#   make lab    create .venv, install everything, open JupyterLab on notebooks/
#   make test   create/update the same .venv and run the whole test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python
STAMP  := $(VENV)/.installed
PORT   ?= 8888
VOILA_PORT ?= 8866
NOTEBOOKS := $(sort $(wildcard notebooks/[0-9][0-9]_*.py))
DASHBOARDS := $(sort $(wildcard notebooks/dashboards/*.py))
PYTEST_ARGS ?=

.PHONY: lab test lint outputs lock venv present slides handouts review sap data benchmark references wheel-check clean help

help:
	@echo "make lab | test | lint | outputs | data | present | slides | handouts | review | sap | benchmark | references | wheel-check | lock | clean"

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e ".[lab,test]"
	$(PY) tools/warm_kernels.py
	touch $(STAMP)

venv: $(STAMP)

# make lab LAB_IP=0.0.0.0 serves other machines too (default: this computer only);
# make lab NO_BROWSER=1 starts the server without opening a browser (it prints the URL to open).
LAB_IP ?= 127.0.0.1
NO_BROWSER ?=
lab: $(STAMP)
	$(BIN)/jupyter lab --notebook-dir=notebooks --ServerApp.ip=$(LAB_IP) --ServerApp.port=$(PORT) $(if $(NO_BROWSER),--no-browser) $(if $(filter 0,$(shell id -u)),--allow-root)

test: $(STAMP)
	$(PY) -m pytest -n 2 --dist loadscope --nbval --nbval-sanitize-with notebooks/sanitize.cfg tests notebooks $(PYTEST_ARGS)

# ruff (rules in pyproject.toml [tool.ruff]) and mypy ([tool.mypy]); any finding fails, and CI runs it first.
lint: $(STAMP)
	$(BIN)/ruff check trialnb tests benchmarks tools
	$(BIN)/mypy

# The only way notebook outputs are regenerated: .py -> .ipynb, then execute in place.
outputs: $(STAMP)
	$(PY) tools/notebooks.py build $(NOTEBOOKS) $(DASHBOARDS)

data: $(STAMP)
	$(BIN)/trialnb build-data --out data --force

# Dashboards for meetings: Voila serves notebooks/dashboards on this machine only, code hidden;
# of the JupyterLab extensions only the widget manager is loaded into the pages (the others,
# jupytext, RISE, MathJax, the Voila preview, have nothing to do there and slow the page down).
# tests/test_browser.py starts Voila with exactly this command line (read from `make -n present`).
# Nothing is fetched from the network: the trialnb template (tools/jupyter/voila/templates/trialnb,
# found through JUPYTER_PATH) is Voila's lab template without its CDN Font Awesome links.
# Pre-heated kernels: Voila keeps VOILA_POOL kernels per dashboard that have already run the
# notebook, so a page opens at once (a new one is heated after each use); VOILA_POOL=0 turns it off.
# Every page load takes a kernel (~300 MB) that Voila does not shut down when the page closes:
# jupyter_server's culler stops a kernel with no page connected after 40 s idle (checked every
# 10 s); the kernel of an open page, and the pool, are never culled; a kernel leaving the pool gets
# the full 40 s to be connected (tools/jupyter/trialnb_voila.py; tests/test_voila_kernels.py).
VOILA_POOL ?= 1
present: $(STAMP)
	@echo "Dashboards: http://127.0.0.1:$(VOILA_PORT)/  (Ctrl-C to stop)"
	JUPYTER_PATH=$(CURDIR)/tools/jupyter PYTHONPATH=$(CURDIR)/tools/jupyter $(BIN)/voila notebooks/dashboards --no-browser --Voila.ip=127.0.0.1 --port=$(VOILA_PORT) --template=trialnb --strip_sources=True --show_tracebacks=False --theme=light --VoilaConfiguration.extension_denylist="['jupyterlab-jupytext','jupyterlab-rise','@jupyterlab/mathjax3-extension','@voila-dashboards/jupyterlab-preview']" --VoilaConfiguration.preheat_kernel=True --VoilaConfiguration.default_pool_size=$(VOILA_POOL) --VoilaConfiguration.multi_kernel_manager_class=trialnb_voila.GraceKernelManager --MappingKernelManager.cull_idle_timeout=40 --MappingKernelManager.cull_interval=10 --MappingKernelManager.cull_connected=False

slides: $(STAMP)
	$(PY) tools/notebooks.py slides --out build/slides $(NOTEBOOKS)

handouts: $(STAMP)
	$(PY) tools/notebooks.py handouts --out build/handouts $(NOTEBOOKS) $(DASHBOARDS)

review: $(STAMP)
	$(BIN)/trialnb audit --html build/review/audit.html

# The statistical analysis plan draft (README "The statistical analysis plan"): HTML to read or
# print, Markdown to paste into the trial's own documents.
sap: $(STAMP)
	$(BIN)/trialnb sap --html build/sap/sap.html --markdown build/sap/sap.md

benchmark: $(STAMP)
	$(PY) benchmarks/run.py

# The wheel installed outside the checkout (not editable) runs verify-data, audit, sap and
# monitor on its packaged example data (CI runs it after the tests).
wheel-check: $(STAMP)
	PYTHON=$(PY) tools/wheel_check.sh

# Re-run every R reference script to its default output (tests/reference/NAME.json); needs
# Rscript with the R packages the scripts load (rpact, survival, metafor, jsonlite), not the venv.
# A script that gets an empty or NA result stops and leaves its reference untouched.
references:
	@set -e; for f in tests/reference/*.R; do echo "Rscript $$f"; Rscript "$$f"; done

lock:
	$(PY) -m pip freeze --exclude-editable | grep -v '^trialnb' | sed '1i # Pinned versions used by make, CI and nbval outputs. Regenerate: make lock' > constraints.txt

clean:
	rm -rf build .pytest_cache
