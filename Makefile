# OneTrip — the two commands are `make run` and `make test` (README). Everything they need is
# installed here when missing: apt packages, npm packages, cargo tools.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# What running the app needs (make run), and what the suites add (make test).
RUN_APT := build-essential pkg-config mold libssl-dev libwebkit2gtk-4.1-dev librsvg2-dev libasound2-dev \
           fonts-noto-cjk fonts-hanazono
TEST_APT := poppler-utils xvfb xauth webkit2gtk-driver cups cups-client printer-driver-cups-pdf chromium \
            curl python3-venv postgresql-15
CARGO_BIN := $(HOME)/.cargo/bin
export PATH := $(CARGO_BIN):$(PATH)
TAURI := ui/node_modules/.bin/tauri
DESK_BIN := target/debug/onetrip-desk
CLI_BIN := target/debug/onetrip
DATA := .data
DEMO_DB := $(DATA)/demo.sqlite
XVFB := xvfb-run -a -s "-screen 0 1920x1080x24"
# One feature set for every build of the suite: the desktop with its UI embedded (tauri://), so
# that the app, the test binaries, clippy's and the e2e runs never build a crate twice.
FEATURES := --workspace --features onetrip-desk/custom-protocol

.PHONY: help deps run-deps apt-run apt-test ui-deps cargo-tools run test stages package app cli \
        ui-build build bindings bindings-check fmt-check clippy rust-test pg-test ui-check e2e \
        schemathesis icons clean bench load load-history load-pg voice-clips fuzz docs-screenshots

help:
	@echo "make run      install what is missing, build, open the desktop app on a demo hall"
	@echo "make test     install what is missing, run every suite (CI runs this)"
	@echo "make package  build the .deb"
	@echo "make bindings regenerate ui/src/lib/bindings from the Rust types"
	@echo "make bench    run the benchmarks (not part of make test)"
	@echo "make load     the hall server under a busy day's load, screens open (not part of make test)"
	@echo "make load-history  the same on a hall with five years of history"
	@echo "make fuzz     the fuzz targets with sanitizers, growing their corpus (not part of make test)"

## ---- installation (idempotent: skips what is present) ----
define apt_install
	@missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	else echo "apt packages present"; fi
endef

apt-run:
	$(call apt_install,$(RUN_APT))
apt-test:
	$(call apt_install,$(RUN_APT) $(TEST_APT))

run-deps: apt-run ui-deps
deps: apt-test ui-deps cargo-tools

ui-deps: ui/node_modules/.stamp
ui/node_modules/.stamp: ui/package-lock.json ui/package.json
	@command -v npm >/dev/null || { echo "installing: nodejs npm"; $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends nodejs npm; }
	cd ui && npm ci --no-audit --no-fund
	touch $@

cargo-tools:
	@command -v tauri-driver >/dev/null || cargo install tauri-driver --locked

## ---- build ----
bindings:
	cargo test -q $(FEATURES) --test core -- bindings::

ui-build: ui-deps
	cd ui && npm run build

# The real app: UI built into ui/dist and served through the tauri:// protocol (never the
# dev-server binary), and the onetrip CLI.
app: ui-build
	cargo build -p onetrip-desk --features custom-protocol
cli:
	cargo build -p onetrip-cli

## ---- run ----
run: run-deps app cli
	@mkdir -p $(DATA)
	@if [ ! -f $(DEMO_DB) ]; then $(CLI_BIN) --db $(DEMO_DB) demo && $(CLI_BIN) --db $(DEMO_DB) history --days 90; fi
	@echo "demo accounts: see README (password demo1234); database: $(DEMO_DB)"
	$(DESK_BIN) --db $(DEMO_DB)

## ---- test ----
# Each stage is timed; the table is printed at the end (tests/stages.sh).
STAGES := deps fmt-check ui-check ui-build build bindings-check clippy rust-test pg-test e2e schemathesis
test:
	@tests/stages.sh $(STAGES)

fmt-check:
	cargo fmt --all -- --check

ui-check: ui-deps
	cd ui && npx svelte-kit sync && npm run lint && npm run check && npm run i18n:check && npm test

# Every binary and test binary of the workspace, once: the desktop (UI embedded), the CLI, the
# load generator, and the tests every later stage runs without building again.
build:
	@[ -f ui/dist/index.html ] || $(MAKE) --no-print-directory ui-build
	cargo test $(FEATURES) --no-run
	cargo build $(FEATURES) --bins

bindings-check:
	rm -rf target/bindings-check
	ONETRIP_BINDINGS_DIR=$(CURDIR)/target/bindings-check cargo test -q $(FEATURES) --test core -- bindings::
	@diff -r target/bindings-check ui/src/lib/bindings || { echo "bindings drift: run 'make bindings' and commit ui/src/lib/bindings"; exit 1; }
	@echo "bindings: no drift"

clippy:
	cargo clippy $(FEATURES) --all-targets -- -D warnings

# The CUPS test runs its own cupsd, whose cups-pdf backend needs root: as root it runs with the
# rest; otherwise the rest runs first and it runs under sudo. The fuzz corpus replays here too
# (tests/core/fuzz_replay.rs).
rust-test:
ifeq ($(SUDO),)
	cargo test $(FEATURES)
else
	cargo test $(FEATURES) -- --skip a_private_cupsd
	$(SUDO) env "PATH=$(PATH)" HOME=/root cargo test $(FEATURES) --test cups
endif

# The same operation suites, the HTTP suite (two servers on one database included) and the crash
# harness again on PostgreSQL 15: a throwaway server on 127.0.0.1 in a temporary data directory.
PG_SUITES := applications:: audit:: auth:: bad_input:: calendar:: cases:: catalog_transfer:: \
             deadlines:: handover:: live_reads:: lived_in:: messages:: store::both_backends posts:: privacy:: queue:: ratings:: reactions:: reports:: roles::
pg-test:
	pg=$$(mktemp -d /tmp/onetrip-pg.XXXXXX); url=$$(tests/pg/start.sh $$pg); \
	  trap 'tests/pg/stop.sh '$$pg EXIT; echo "PostgreSQL: $$url"; \
	  ONETRIP_TEST_PG=$$url cargo test $(FEATURES) --test core -- $(PG_SUITES); \
	  ONETRIP_TEST_PG=$$url cargo test $(FEATURES) --test http; \
	  ONETRIP_TEST_PG=$$url cargo test $(FEATURES) --test crash_server --test outbox_crash

e2e: cargo-tools
	rm -rf target/e2e-shots
	ONETRIP_DESK_BIN=$(CURDIR)/$(DESK_BIN) ONETRIP_CLI_BIN=$(CURDIR)/$(CLI_BIN) \
	  $(XVFB) cargo test $(FEATURES) --test e2e -- --ignored --test-threads=1
	@ls target/e2e-shots

# The hall server against its own OpenAPI document (schemathesis from PyPI, short mode).
schemathesis:
	ONETRIP_CLI_BIN=$(CURDIR)/$(CLI_BIN) tests/schemathesis/run.sh

# The fuzz targets under libFuzzer with sanitizers (cargo-fuzz, stable toolchain with
# RUSTC_BOOTSTRAP): FUZZ_SECONDS per target (default 60) from the seeds and the kept corpus.
# `make test` replays the saved inputs without this build (tests/core/fuzz_replay.rs).
fuzz:
	@command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
	FUZZ_SECONDS=$${FUZZ_SECONDS:-60} tests/fuzz/run.sh

# The README's screenshots, from the last `make e2e` (lived-in hall, real screen sizes).
DOC_SHOTS := counter-call keyboard-all-received-1280x800 kiosk-home-1080x1920 display-call-1920x1080 \
             cases-extended lived-admin-deadlines-1280x800 checklist-notice service-card \
             lived-admin-calendar-1280x800 lived-counter-cases-1920x1080 handover-behalf-case handover-handback \
             hall-kiosk-issue hall-display-after-restart hall-counter-lost hall-display-lost \
             reports-dashboard reports-drill-case display-unpaired-1920x1080 kiosk-ticket-1080x1920 \
             rater-idle rater-materials rater-levels rater-reasons rater-thanks window-screen \
             bad-rating-board device-pairing admin-outbox admin-templates kiosk-day-off kiosk-keypad kiosk-id-held
docs-screenshots:
	rm -f docs/screenshots/*.png
	for s in $(DOC_SHOTS); do cp target/e2e-shots/$$s.png docs/screenshots/; done

## ---- package ----
package: run-deps
	TAURI_APP_PATH=src-tauri $(TAURI) build --bundles deb
	@ls target/release/bundle/deb/*.deb

# Benchmarks carry the speed targets; they are not part of `make test`.
bench:
	cargo bench -p onetrip-core --bench queue
	cargo bench -p onetrip-core --bench deadlines
	cargo bench -p onetrip-core --bench reports

# Hall-server load: a busy day (50 windows, 10,000 tickets, 300 cases) against a release server on
# a fresh demo hall (SQLite), with the screens a hall has open (50 consoles, 4 displays, the
# kiosks, the six demo consoles). Prints p50/p99 per operation, the event-to-screen lag per
# screen and the server's memory. `LOAD_ARGS="--no-screens --issue-rate 0 --serve-ms 0"`: saturation.
LOAD_DIR := target/load
LOAD_PORT := 18720
load:
	cargo build --release -p onetrip-cli -p onetrip-loadgen
	rm -rf $(LOAD_DIR) && mkdir -p $(LOAD_DIR)
	target/release/onetrip --db $(LOAD_DIR)/hall.sqlite demo >/dev/null
	target/release/onetrip --db $(LOAD_DIR)/hall.sqlite serve --bind 127.0.0.1:$(LOAD_PORT) >$(LOAD_DIR)/server.log 2>&1 & \
	  server=$$!; trap 'kill $$server' EXIT; \
	  for i in $$(seq 50); do curl -sf http://127.0.0.1:$(LOAD_PORT)/api/health >/dev/null && break; sleep 0.2; done; \
	  target/release/onetrip-load --url http://127.0.0.1:$(LOAD_PORT) --server-pid $$server $(LOAD_ARGS) | tee $(LOAD_DIR)/report.txt

# The same day on a hall with five years of history (1,000,000 tickets, 500,000 cases: the
# reports benchmark's), at 2 tickets a second with the same screens. The hall is generated once
# into target/load-history (a few minutes) and copied for each run.
HISTORY_DIR := target/load-history
HISTORY_ARGS ?= --issue-rate 2 --tickets 600 --cases 20
load-history:
	cargo build --release -p onetrip-cli -p onetrip-loadgen
	if [ ! -f $(HISTORY_DIR)/hall-5y.sqlite ]; then \
	  rm -rf $(HISTORY_DIR) && mkdir -p $(HISTORY_DIR) && \
	  target/release/onetrip --db $(HISTORY_DIR)/gen.sqlite demo >/dev/null && \
	  target/release/onetrip --db $(HISTORY_DIR)/gen.sqlite history --days 1826 --tickets 1000000 --cases 500000 --seed 2026 && \
	  mv $(HISTORY_DIR)/gen.sqlite $(HISTORY_DIR)/hall-5y.sqlite; fi
	rm -rf $(LOAD_DIR) && mkdir -p $(LOAD_DIR)
	cp $(HISTORY_DIR)/hall-5y.sqlite $(LOAD_DIR)/hall.sqlite
	target/release/onetrip --db $(LOAD_DIR)/hall.sqlite serve --bind 127.0.0.1:$(LOAD_PORT) >$(LOAD_DIR)/server.log 2>&1 & \
	  server=$$!; trap 'kill $$server' EXIT; \
	  for i in $$(seq 100); do curl -sf http://127.0.0.1:$(LOAD_PORT)/api/health >/dev/null && break; sleep 0.2; done; \
	  target/release/onetrip-load --url http://127.0.0.1:$(LOAD_PORT) --server-pid $$server $(HISTORY_ARGS) $(LOAD_ARGS) | tee $(LOAD_DIR)/report-history.txt

# The same load on PostgreSQL (a throwaway server, as in pg-test).
load-pg:
	cargo build --release -p onetrip-cli -p onetrip-loadgen
	rm -rf $(LOAD_DIR) && mkdir -p $(LOAD_DIR)
	pg=$$(mktemp -d /tmp/onetrip-pg.XXXXXX); url=$$(tests/pg/start.sh $$pg); \
	  db=$$(echo $$url | sed 's#/postgres$$#/onetrip_load#'); \
	  psql -q "$$url" -c 'CREATE DATABASE onetrip_load'; \
	  target/release/onetrip --database $$db --data-dir $(LOAD_DIR) demo >/dev/null; \
	  target/release/onetrip --database $$db --data-dir $(LOAD_DIR) serve --bind 127.0.0.1:$(LOAD_PORT) >$(LOAD_DIR)/server.log 2>&1 & \
	  server=$$!; trap 'kill $$server; tests/pg/stop.sh '$$pg EXIT; \
	  for i in $$(seq 50); do curl -sf http://127.0.0.1:$(LOAD_PORT)/api/health >/dev/null && break; sleep 0.2; done; \
	  target/release/onetrip-load --url http://127.0.0.1:$(LOAD_PORT) --server-pid $$server $(LOAD_ARGS) | tee $(LOAD_DIR)/report-pg.txt

# Regenerate the bundled voice clips (espeak-ng, sox); the WAVs are committed.
voice-clips:
	@dpkg -s espeak-ng sox >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq espeak-ng sox; }
	crates/voice/clips/generate.sh

icons: ui-deps
	$(TAURI) icon icons/source.svg -o icons && rm -rf icons/android icons/ios

clean:
	cargo clean; rm -rf ui/dist ui/.svelte-kit
