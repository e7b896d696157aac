# app-server: build, test and check. `make check` is the one test command
# (CI runs it through .ci/run).

GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

# staticcheck 2026.2.2 (module version v0.8.2) is built for Go 1.26.
STATICCHECK_VERSION := v0.8.2
STATICCHECK := $(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

# The reference server (Codex CLI 0.169.0, from npm), installed and cached by
# tools/codex/install.sh in $(CODEX_CACHE)/0.169.0.
CODEX_CACHE ?= $(HOME)/.cache/codex-reference
export CODEX_CACHE
CODEX_BIN := $(CODEX_CACHE)/0.169.0/node_modules/@openai/codex-linux-x64/vendor/x86_64-unknown-linux-musl/bin/codex

# CHECK_COMPAT is the schema compatibility check against the published Codex
# schema that `make check` runs last: `compat` as soon as
# schema/compat_test.go exists, nothing before. Override with
# `make check CHECK_COMPAT=` to skip it (it installs Codex from npm).
CHECK_COMPAT ?= $(if $(wildcard schema/compat_test.go),compat)

# CHECK_TS_CLIENT is the TypeScript example client's end-to-end run (all four
# network decisions) that `make check` runs when scripts/ts-client-test.sh
# exists.
CHECK_TS_CLIENT ?= $(if $(wildcard scripts/ts-client-test.sh),ts-client-test)

.PHONY: all build test check fmt-check vet staticcheck tidy-check tsc generate \
	bench bench-codex bench-network bench-model bench-sandbox cross compat ts-client-test fuzz clean

all: build

build:
	$(GO) build -ldflags '-X main.version=$(VERSION)' -o bin/app-server ./cmd/app-server

# The stack-size test skips under -race (the race detector's frames are
# bigger), so it also runs once without it.
test:
	$(GO) test -race ./...
	$(GO) test -count=1 -run TestWaitingConnectStackShrinks ./netapproval/

# The one test command. The schema golden tests (JSON Schema and TypeScript
# up to date with the protocol types) are part of `go test`.
check: fmt-check vet cross staticcheck tidy-check test tsc $(CHECK_TS_CLIENT) $(CHECK_COMPAT)
	@echo "make check: all checks passed"

fmt-check:
	@files=$$(gofmt -l $$(find . -name node_modules -prune -o -name '*.go' -print)); \
	if [ -n "$$files" ]; then echo "gofmt -l: these files need gofmt:"; echo "$$files"; exit 1; fi

vet:
	$(GO) vet ./...
	$(GO) vet -tags e2etest ./cmd/app-server

# The macOS sandbox (Seatbelt) and the Windows fail-closed path keep
# building. The end-to-end tests are Linux-only (they read /proc and use
# Linux ioctls), so darwin vets everything else.
cross:
	GOOS=darwin $(GO) vet $$(GOOS=darwin $(GO) list ./... | grep -v '/e2e$$')
	GOOS=windows $(GO) build ./...

staticcheck:
	$(STATICCHECK) ./...

tidy-check:
	$(GO) mod tidy -diff

tsc:
	tools/tsc/check.sh

# Regenerate the golden JSON Schema and TypeScript files from the protocol
# types.
generate:
	$(GO) test ./schema -update

# Benchmarks against the built server; compares with Codex when
# `make bench-codex` has installed it. Writes the generated section of
# docs/BENCHMARKS.md (notes outside the markers are kept).
bench: build
	$(GO) run ./cmd/appbench --server bin/app-server \
		$(if $(wildcard $(CODEX_BIN)),--codex $(CODEX_BIN)) --out docs/BENCHMARKS.md
	$(MAKE) bench-network
	$(MAKE) bench-model
	$(MAKE) bench-sandbox

bench-codex:
	tools/codex/install.sh bin >/dev/null
	$(MAKE) bench

# The network proxy against direct loopback TCP (cmd/netbench); writes its
# own section of docs/BENCHMARKS.md.
bench-network:
	$(GO) run ./cmd/netbench -out docs/BENCHMARKS.md

# A model-driven turn (one command tool call, its approval answered at
# once, then a message) against a scripted mock Responses server, ours and
# Codex's when installed, in the same run (cmd/modelbench); writes its own
# section of docs/BENCHMARKS.md.
# The OS sandbox's per-command overhead against bubblewrap (installed by the
# script when missing) and its proxy relay's throughput (cmd/sandboxbench);
# writes its own section of docs/BENCHMARKS.md.
bench-sandbox:
	GO=$(GO) scripts/bench-sandbox.sh -out docs/BENCHMARKS.md

bench-model: build
	$(GO) run ./cmd/modelbench --server bin/app-server \
		$(if $(wildcard $(CODEX_BIN)),--codex $(CODEX_BIN)) --out docs/BENCHMARKS.md

# Our schema against the one `codex app-server generate-json-schema` writes
# (schema/compat_test.go), then every message of the end-to-end tests
# validated against it (e2e/codex_test.go prints the count).
compat:
	@set -e; dir=$$(tools/codex/install.sh schema); \
	echo "CODEX_SCHEMA_DIR=$$dir $(GO) test ./schema -run Compat -v"; \
	CODEX_SCHEMA_DIR=$$dir $(GO) test ./schema -run Compat -v; \
	echo "CODEX_SCHEMA_DIR=$$dir $(GO) test -count=1 ./e2e/ -v -run ."; \
	CODEX_SCHEMA_DIR=$$dir $(GO) test -count=1 ./e2e/ -v -run .

fuzz:
	$(GO) test -run '^$$' -fuzz=FuzzStream -fuzztime=30s ./rpc/

clean:
	rm -rf bin

# Builds examples/ts-client (vscode-jsonrpc + generated types) and drives the
# four network-approval decisions against the real binary.
.PHONY: ts-client-test
ts-client-test:
	bash scripts/ts-client-test.sh
