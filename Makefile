# Tarian's build and test entry points. `make test` is the whole suite and
# exactly what CI runs (.ci/run); it needs Go and the module proxy, and the
# npm registry for the console's pinned packages (ui-check).

GO ?= go
PKGS := ./...

# `tarian version` prints these; a build without them falls back to what Go
# records in the binary (module version, vcs.revision, vcs.time).
VERSION ?= $(shell git describe --tags --dirty 2>/dev/null || echo dev)
COMMIT ?= $(shell git rev-parse --short=12 HEAD 2>/dev/null)
BUILD_DATE ?= $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
LDFLAGS := -X github.com/tarian-soc/tarian/internal/buildinfo.Version=$(VERSION) -X github.com/tarian-soc/tarian/internal/buildinfo.Commit=$(COMMIT) -X github.com/tarian-soc/tarian/internal/buildinfo.BuildDate=$(BUILD_DATE)

.PHONY: build test deps lint ui-check vulncheck race e2e-external bench-compile demo clean

# The web console (web/): install the pinned npm packages and rebuild the
# committed web/dist, which the binary embeds. Deterministic: the same
# sources give the same files (scripts/ui-check.sh checks).
.PHONY: ui
ui:
	cd web && npm ci --no-audit --no-fund && npm run build

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o tarian ./cmd/tarian

demo:
	$(GO) run ./cmd/tarian demo

# The whole suite: Debian packages the tests drive (scripts/install-deps.sh),
# format, vet, staticcheck, govulncheck (when its database can be reached),
# the console rebuilt from its sources and compared with the committed
# web/dist (it also installs the npm packages the browser test drives),
# every test with the race detector, and every benchmark once so they keep
# compiling and running.
test: deps lint ui-check vulncheck race e2e-external bench-compile

deps:
	bash scripts/install-deps.sh

ui-check:
	bash scripts/ui-check.sh

lint:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt would change:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet $(PKGS)
	$(GO) tool staticcheck $(PKGS)
	$(GO) mod verify

# Known vulnerabilities in the code paths we call; offline it prints
# "govulncheck skipped: database unreachable" and passes.
vulncheck:
	GO=$(GO) bash scripts/govulncheck.sh

# On failure it repeats each failure's first lines last (scripts/race.sh).
race:
	GO=$(GO) bash scripts/race.sh $(PKGS)

# The end-to-end tests of tenants, isolation, restarts, alerts, cases,
# intel, accounts and scheduled searches again, each server on external
# engines started by the tests (NATS JetStream, VictoriaLogs, PostgreSQL),
# as a scale-out deployment runs them (docs/scaling.md). The race target
# ran them on the embedded engines, and TestCluster on a cluster of each.
E2E_EXTERNAL := TestTenantIsolation|TestRestart|TestAlertQueue|TestCaseEscalation|TestIntelEndToEnd|TestIntelImportExport|TestAccountsCLI|TestMFACLI|TestScheduledSearch
e2e-external:
	TARIAN_E2E_ENGINES=external $(GO) test -count=1 -timeout 20m -run '$(E2E_EXTERNAL)' ./internal/e2e

# The queue benchmarks run over 10,000 alerts here, not 100,000.
# The scale-out benchmark sends 10,000 events a phase, not 50,000. bench/
# runs last and alone: its figures compare Tarian with VictoriaLogs on
# this machine, which another package's benchmarks would share.
bench-compile:
	TARIAN_BENCH_ALERTS=10000 $(GO) test -run '^$$' -bench . -benchtime 1x -count=1 -timeout 20m $$($(GO) list $(PKGS) | grep -v '/bench$$')
	TARIAN_BENCH_ALERTS=10000 TARIAN_BENCH_SCALE_EVENTS=10000 $(GO) test -run '^$$' -bench . -benchtime 1x -count=1 -timeout 20m ./bench/

clean:
	rm -rf tarian tarian-data tarian-demo-data
