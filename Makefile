# Two entry points: `make demo` and `make test`. Each installs what is missing on a fresh
# Debian 12 machine (run as root), then does its job.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON ?= python3
STAMPS := .stamps
APT_PACKAGES := tesseract-ocr tesseract-ocr-chi-sim tesseract-ocr-osd ghostscript unpaper qpdf pngquant \
	poppler-utils fonts-noto-cjk fonts-arphic-ukai fonts-arphic-uming fonts-wqy-zenhei libgl1 libglib2.0-0 \
	python3-venv python3-dev gcc sqlite3 nginx \
	chromium fonts-arphic-gbsn00lp fonts-arphic-gkai00mp fonts-lxgw-wenkai fonts-cwtex-fs fonts-wqy-microhei \
	fonts-droid-fallback fonts-klee fonts-seto fonts-dkg-handwriting
DEMO_DIR ?= demo-batch
DEMO_DOCS ?= 12
DEMO_SEED ?= 2026
# Demo accounts only live in the throw-away demo catalogue (dangan-data/); never use it elsewhere.
DEMO_PASSWORD ?= dangan-demo-2026

.PHONY: demo test lint typecheck pytest system venv services clean

$(STAMPS):
	@mkdir -p $(STAMPS)

# apt packages: installed only when one is missing, so a prepared machine pays nothing.
system: | $(STAMPS)
	@missing=$$(for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing system packages: $$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

$(STAMPS)/venv: pyproject.toml constraints.txt | $(STAMPS) system
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c constraints.txt -e '.[dev,airflow,synth]'
	@# synth/, training/ and bench/ are tools beside the product and not in its wheel: they run from the checkout
	$(PY) -c "import pathlib, sysconfig; pathlib.Path(sysconfig.get_paths()['purelib'], 'dangan-checkout.pth').write_text('$(CURDIR)\n')"
	@touch $@

venv: system $(STAMPS)/venv

services:
	@bash scripts/ensure-services.sh

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: venv
	$(VENV)/bin/mypy

pytest: venv services
	$(VENV)/bin/python -m pytest -q

test: lint typecheck pytest

demo: venv
	rm -rf $(DEMO_DIR) dangan-data
	$(VENV)/bin/dangan synth --out $(DEMO_DIR) --docs $(DEMO_DOCS) --seed $(DEMO_SEED)
	$(VENV)/bin/dangan ingest $(DEMO_DIR)
	@# Look up the first generated document's form and person, as counter staff would.
	$(VENV)/bin/dangan search "$$($(PY) -c "import json; d = json.load(open('$(DEMO_DIR)/ground_truth.json'))['documents'][0]; print(d['form_title'])")"
	$(VENV)/bin/dangan search "$$($(PY) -c "import json; d = json.load(open('$(DEMO_DIR)/ground_truth.json'))['documents']; print(next(x['fields']['name'] for x in d if 'name' in x['fields']))")"
	$(VENV)/bin/dangan qc list
	$(VENV)/bin/dangan export --out dangan-data/records.jsonl
	@for role in archivist reviewer counter admin; do \
	  DANGAN_NEW_PASSWORD='$(DEMO_PASSWORD)' $(VENV)/bin/dangan users add demo-$$role --role $$role >/dev/null; done
	@echo "Review application: run '$(VENV)/bin/dangan serve', open http://127.0.0.1:8000/"
	@echo "  log in as demo-reviewer (or demo-archivist, demo-counter, demo-admin), password $(DEMO_PASSWORD)"

clean:
	rm -rf $(VENV) $(STAMPS) dangan-data $(DEMO_DIR)
