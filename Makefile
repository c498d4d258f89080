# sous — make help lists the targets.
GO        ?= go
BIN       ?= bin/sous
EXAMPLE   ?= examples/nyc-taxi
GOBIN     := $(shell $(GO) env GOPATH)/bin
export PATH := $(GOBIN):$(PATH)

.PHONY: help build demo test test/short bench bench-predict check tools

help: ## list targets
	@grep -hE '^[a-zA-Z/_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

build: ## build bin/sous
	$(GO) build -o $(BIN) ./cmd/sous

demo: build ## run the NYC taxi example end to end: train, evaluate, register, then batch-score
	$(BIN) run -C $(EXAMPLE)
	$(BIN) run -C $(EXAMPLE) --step predict

tools: ## install the servers the tests start: MinIO and nats-server
	@command -v minio >/dev/null 2>&1 || $(GO) install github.com/minio/minio@v0.0.0-20260212201848-7aac2a2c5b7c
	@command -v nats-server >/dev/null 2>&1 || $(GO) install github.com/nats-io/nats-server/v2@v2.15.2

test: tools ## run every test with the race detector (S3 tests against a real MinIO)
	$(GO) test -race -count=1 -timeout 40m ./...

test/short: ## fast tests without the race detector
	$(GO) test -short ./...

bench: ## Go benchmarks of the hot paths, then sous against scikit-learn and XGBoost: GBDT (BENCH_ROWS=1000000), linear models and random forests (bench/models)
	$(GO) test -run '^$$' -bench . -benchmem ./...
	./scripts/bench-peers.sh
	$(GO) run ./bench/scaling -runs 50

bench-predict: build tools ## batch scoring: 2M and 20M rows, 1 and 2 workers, peak RSS, vs scikit-learn HGB (BENCH_PREDICT_ROWS)
	BIN=$(BIN) ./scripts/bench-predict.sh

check: ## gofmt, go vet, import direction, go mod tidy
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); echo 'gofmt needed'; exit 1)
	$(GO) vet ./...
	@./scripts/check-imports.sh
	@cp go.mod /tmp/sous-go.mod.bak; cp go.sum /tmp/sous-go.sum.bak; $(GO) mod tidy; \
	  if ! git diff --quiet go.mod go.sum; then echo 'go mod tidy changes go.mod/go.sum'; cp /tmp/sous-go.mod.bak go.mod; cp /tmp/sous-go.sum.bak go.sum; exit 1; fi
