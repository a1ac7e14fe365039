# Two commands for a new user:  make run  (set up, index seeds/, serve the UI)  and  make test.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: setup index run test test-fast test-eval browser ocr eval bench clean

setup: $(STAMP)

# The CPU build of torch goes in first: a plain torch requirement would pull a CUDA build of
# several GB. Everything else comes from pyproject.toml: the core, every optional extra (the tests
# cover Milvus, eval and training) and the test tools.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[all,test]'
	touch $(STAMP)

# Incremental: embeds only new or changed files, so an up-to-date index costs a second.
index: setup
	$(BIN)/rag index seeds

run: index
	$(BIN)/rag serve --host $(HOST) --port $(PORT)

# The browser test drives Debian's Chromium; install it when it is missing.
browser:
	@command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || \
	  { [ "$$(id -u)" = 0 ] && SUDO= || SUDO=sudo; \
	    $$SUDO apt-get update -q && $$SUDO apt-get install -y -q chromium; }

# OCR of scanned PDF pages reads with Debian's Tesseract; install it when it is missing.
ocr:
	@command -v tesseract >/dev/null 2>&1 || \
	  { [ "$$(id -u)" = 0 ] && SUDO= || SUDO=sudo; \
	    $$SUDO apt-get update -q && $$SUDO apt-get install -y -q tesseract-ocr; }

test: setup browser ocr
	$(BIN)/python -m pytest -q

# Neither the real model nor a browser (tests/conftest.py fails a fast test that loads the model).
# Unit tests only: no real model, no browser, no Milvus; spread over the cores.
test-fast: setup
	$(BIN)/python -m pytest -q -m "not slow and not milvus" -n auto

# The quality gates alone: EM, F1 and recall floors on the project's question sets (real model).
test-eval: setup
	$(BIN)/python -m pytest -q -m eval

eval: index
	$(BIN)/rag eval --retriever all

bench: index
	$(BIN)/rag bench

clean:
	rm -rf $(VENV) index/CURRENT index/v-* .cache .pytest_cache
