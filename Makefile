# OneMap: `make run` sets up everything and serves the dashboard; `make test` sets up and tests.
# Both are idempotent: each step checks what is there and does only what is missing.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# the district `make run` loads the first time: demo (~100 k people, ~30 s) or district (~800 k)
DEMO_SCALE ?= demo
# reports an hour the simulator makes beside `make run`, on the day's average
SIMULATE_RATE ?= 30

# Debian 12 packages: the database, and the browser and CJK fonts the cockpit's PDF report
# prints with, for `run`; the browser's driver too for `test`.
RUN_PACKAGES := postgresql-15 postgresql-15-postgis-3 python3-venv chromium fonts-noto-cjk
TEST_PACKAGES := chromium chromium-driver fonts-noto-cjk

.PHONY: run test bench db system-packages test-packages venv clean-db help vendor

help:
	@echo "make run   - install what is missing, start the embedded PostGIS, migrate, load the demo"
	@echo "             district the first time (DEMO_SCALE=demo|district), serve :8050"
	@echo "make test  - install what is missing (also Chromium), run the whole test suite"
	@echo "make bench - every benchmark on a district-scale copy of its own; rewrites BENCHMARKS.md"

# The escalation worker and the simulator run beside the server and stop with it. The
# simulator waits until the server answers /healthz, then keeps the demo district alive
# through the API (README: "A live district"); ONEMAP_SIMULATE=false leaves it out.
run: system-packages venv db
	$(BIN)/onemap worker & worker=$$!; \
	$(BIN)/onemap simulate --rate $(SIMULATE_RATE) & simulator=$$!; \
	trap "kill $$worker $$simulator 2>/dev/null" EXIT; \
	$(BIN)/onemap serve

test: system-packages test-packages venv
	CI=$${CI:-} $(BIN)/python -m pytest

# The district-scale data is built once in a cluster of its own (var/bench/pg), never var/pg,
# and copied for each run (bench/all.py); peers (tipg) get their own venv (var/bench-venv).
bench: system-packages test-packages venv
	$(BIN)/python bench/all.py

db: venv
	$(BIN)/onemap db start
	$(BIN)/onemap db migrate
	$(BIN)/onemap demo --scale $(DEMO_SCALE) --if-empty

# apt only when a package is missing, so a second run costs a few dpkg queries
define apt_install
	@missing=$$(for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing: $$missing"; \
	  $(SUDO) apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends $$missing; \
	fi
endef

system-packages:
	$(call apt_install,$(RUN_PACKAGES))

test-packages:
	$(call apt_install,$(TEST_PACKAGES))

# the venv is rebuilt only when pyproject.toml changes
venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@

clean-db:
	-$(BIN)/onemap db stop
	rm -rf var/pg

# The browser libraries served from assets/vendor/ (committed: the command centre has no
# internet). This fetches the pinned version again from the npm registry and checks its hash.
LEAFLET_HEAT := https://registry.npmjs.org/leaflet.heat/-/leaflet.heat-0.2.0.tgz
LEAFLET_HEAT_SHA1 := 109d8cf586f0adee41f05aff031e27a77fecc229
# VectorGrid's bundle that keeps to itself (the .min one leaks its helpers into window), with the
# fix for Leaflet >= 1.8, which has no L.DomEvent.fakeStop (Leaflet.VectorGrid#274, #288); its
# licence is in its README. A point's click needs a second fix, in assets/map.js
LEAFLET_VECTORGRID := https://registry.npmjs.org/leaflet.vectorgrid/-/leaflet.vectorgrid-1.3.0.tgz
LEAFLET_VECTORGRID_SHA1 := ff2deea17d06a9c6cc5e65d8c7287093950e219a
vendor:
	tmp=$$(mktemp -d) && curl -fsSL -o $$tmp/heat.tgz $(LEAFLET_HEAT) && \
	echo "$(LEAFLET_HEAT_SHA1)  $$tmp/heat.tgz" | sha1sum -c - && \
	tar -xzf $$tmp/heat.tgz -C $$tmp && \
	{ echo "/* leaflet.heat 0.2.0 (https://github.com/Leaflet/Leaflet.heat), BSD-2-Clause, (c) 2014 Vladimir Agafonkin; npm tarball sha1 $(LEAFLET_HEAT_SHA1). Fetched by \`make vendor\`. */"; \
	  cat $$tmp/package/dist/leaflet-heat.js; } > assets/vendor/leaflet-heat.js && \
	cp $$tmp/package/LICENSE assets/vendor/leaflet-heat.LICENSE && rm -rf $$tmp
	tmp=$$(mktemp -d) && curl -fsSL -o $$tmp/vg.tgz $(LEAFLET_VECTORGRID) && \
	echo "$(LEAFLET_VECTORGRID_SHA1)  $$tmp/vg.tgz" | sha1sum -c - && \
	tar -xzf $$tmp/vg.tgz -C $$tmp && \
	{ echo "/* Leaflet.VectorGrid 1.3.0 (https://github.com/Leaflet/Leaflet.VectorGrid), dist/Leaflet.VectorGrid.bundled.js, Beerware (leaflet.vectorgrid.LICENSE); npm tarball sha1 $(LEAFLET_VECTORGRID_SHA1). Fetched by \`make vendor\`, L.DomEvent.fakeStop -> L.DomEvent.stop for Leaflet >= 1.8. */"; \
	  sed -e 's/L\.DomEvent\.fakeStop(e)/L.DomEvent.stop(e)/' -e '/^\/\/# sourceMappingURL=/d' \
	    $$tmp/package/dist/Leaflet.VectorGrid.bundled.js; } > assets/vendor/leaflet.vectorgrid.js && \
	{ echo "Leaflet.VectorGrid 1.3.0, the licence in its README:"; echo; \
	  sed -n '/THE BEER-WARE LICENSE/,/^---/p' $$tmp/package/README.md; echo; \
	  echo "The bundle includes (its README):"; sed -n '/^\* \[geojson-vt\]/,/^\* \[vector-tile\]/p' \
	    $$tmp/package/README.md; echo "* whatwg-fetch (MIT; a polyfill, unused where fetch exists)"; \
	} > assets/vendor/leaflet.vectorgrid.LICENSE && rm -rf $$tmp
