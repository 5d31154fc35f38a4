# Bailanys: the two set-up commands are `make run` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
CONFIG ?= configs/default.toml

.PHONY: deps run test test-fast lint bench fuzz demo-call models clean install uninstall

deps:
	@./scripts/ensure-deps.sh

run: deps
	$(PY) -m bailanys serve --config $(CONFIG)

test: deps
	$(PY) -m pytest -q

test-fast: deps
	$(PY) -m pytest -q -m "not peer"

lint: deps
	$(VENV)/bin/ruff check bailanys tests bench
	$(VENV)/bin/mypy --strict bailanys

bench: deps
	$(PY) bench/run_all.py

# Mutation-fuzzes the SIP, SDP, RTP, RTCP and RFC 4733 parsers for FUZZ_SECONDS each
# (5 minutes in all); prints inputs tried and escapes per parser, fails on any escape.
FUZZ_SECONDS ?= 60
fuzz: deps
	$(PY) bench/hostile.py --parsers-only --seconds $(FUZZ_SECONDS)

# Downloads the Vosk models for speech menus into voice_models/ru/ and voice_models/kk/;
# with ANALYTICS=1 also the larger ones for transcription workers into voice_models/analytics/.
ANALYTICS ?= 0
models:
	@ANALYTICS=$(ANALYTICS) ./scripts/fetch-models.sh

# Has SIPp dial the line test (1499) on the running engine (make run), press 2 then 1 2 3 #.
demo-call: deps
	$(PY) -m bailanys demo-call --config $(CONFIG)

clean:
	rm -rf var/ .pytest_cache .mypy_cache .ruff_cache

# Installs Bailanys as a systemd service (README, "Deployment"): the package
# in a venv under PREFIX, the user bailanys, the unit, the config in CONFDIR
# (an existing one is kept), logrotate; enables and starts nothing.
# `make uninstall` removes the unit and PREFIX; config, data and logs stay.
PREFIX ?= /opt/bailanys
CONFDIR ?= /etc/bailanys
STATEDIR ?= /var/lib/bailanys
LOGDIR ?= /var/log/bailanys
UNITDIR ?= /etc/systemd/system
LOGROTATEDIR ?= /etc/logrotate.d
INSTALL_VARS = DESTDIR="$(DESTDIR)" PREFIX="$(PREFIX)" CONFDIR="$(CONFDIR)" \
	STATEDIR="$(STATEDIR)" LOGDIR="$(LOGDIR)" UNITDIR="$(UNITDIR)" LOGROTATEDIR="$(LOGROTATEDIR)"
install:
	$(INSTALL_VARS) ./scripts/install.sh install

uninstall:
	$(INSTALL_VARS) ./scripts/install.sh uninstall
