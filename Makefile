# Each target is one command. `make help` lists them.
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
VERSION     ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT      ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
LDFLAGS     := -s -w -X github.com/tandemhq/tandem/internal/cli.Version=$(VERSION) -X github.com/tandemhq/tandem/internal/cli.Commit=$(COMMIT)

.PHONY: help build static test bench load lint staticcheck fuzz demo

help: ## list the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

build: ## build bin/tandem
	go build -trimpath -ldflags '$(LDFLAGS)' -o bin/tandem ./cmd/tandem

static: ## build bin/tandem as a static binary (what examples/deploy/container/Dockerfile ships)
	CGO_ENABLED=1 go build -trimpath -tags netgo,osusergo -ldflags '$(LDFLAGS) -linkmode external -extldflags -static' -o bin/tandem ./cmd/tandem

test: ## run every test (starts what the tests need; see scripts/test.sh)
	scripts/test.sh

bench: ## run the benchmarks behind the README's performance table (both databases)
	scripts/test.sh bench

load: ## run the 60 s Alertmanager-to-page load test on both databases
	scripts/test.sh load

lint: ## gofmt, go vet and staticcheck
	test -z "$$(gofmt -l .)"
	go vet ./...
	go run $(STATICCHECK) ./...

staticcheck: ## staticcheck, pinned
	go run $(STATICCHECK) ./...

fuzz: ## run each fuzz target for 20s
	scripts/fuzz.sh 20s

demo: ## run tandem on demo data
	go run ./cmd/tandem demo
