# The two commands a new user needs:  make run   and   make test
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PG_TEST_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
HOST   ?= 127.0.0.1
PORT   ?= 5000
OIDC_RP := tests/oidc/rp

.PHONY: run test test-sqlite test-postgres install system-deps demo bench clean bridge-deb bridge-wheel

## make run: install, build the demo database (SQLite) and serve the portal on 127.0.0.1
run: install
	HOST=$(HOST) PORT=$(PORT) scripts/run-demo.sh

## make test: every test, on SQLite and then on PostgreSQL
test: install
	scripts/pcsc-up.sh
	$(MAKE) --no-print-directory test-sqlite test-postgres

test-sqlite:
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The packaging tests (wheels, the Debian package) touch no database: the SQLite run has them.
test-postgres:
	MADOGUCHI_TEST_DATABASE_URL=$(PG_TEST_URL) $(BIN)/python -m pytest -m "not packaging" $(PYTEST_ARGS)

install: system-deps $(VENV)/.installed $(OIDC_RP)/node_modules/.package-lock.json
	scripts/i18n.sh compile

system-deps:
	scripts/system-deps.sh

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,card]'
	touch $@

# openid-client (npm, pinned by the lock file): the relying party of the OIDC tests
$(OIDC_RP)/node_modules/.package-lock.json: $(OIDC_RP)/package-lock.json
	npm ci --no-audit --no-fund --prefix $(OIDC_RP)

## make bench: every benchmark (each prints its figure as a ratio to a baseline run beside it)
bench: install
	scripts/pcsc-up.sh
	set -e; for script in bench/*.py; do echo "== $$script"; $(BIN)/python $$script; done

## make bridge-deb: the card bridge as a Debian package in dist/, for one deployment's portal
##   make bridge-deb BRIDGE_ORIGIN=https://portal.city.example.lg.jp [BRIDGE_DEB_ARGS="--kiosk --reader '…'"]
BRIDGE_ORIGIN ?= https://portal.example.lg.jp
bridge-deb:
	python3 scripts/build_bridge_deb.py --origin $(BRIDGE_ORIGIN) --out dist $(BRIDGE_DEB_ARGS)

## make bridge-wheel: the card bridge's wheel in dist/ (pipx install dist/madoguchi_bridge-*.whl)
bridge-wheel: install
	$(BIN)/pip wheel --quiet --no-deps --no-build-isolation -w dist ./bridge

clean:
	rm -rf $(VENV) instance
