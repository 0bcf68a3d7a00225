# orgid — build, test, lint and benchmark.
GO      ?= go
PKGS    ?= ./...
TIMEOUT ?= 45m

.PHONY: build test lint bench conformance clean

build:
	$(GO) build -o bin/orgid ./cmd/orgid

# Every storage test runs on SQLite and on PostgreSQL (ORGID_TEST_POSTGRES_URL,
# default postgres://postgres@127.0.0.1:5432/postgres); PostgreSQL subtests skip
# when it is unreachable unless ORGID_REQUIRE_POSTGRES=1.
test:
	$(GO) test -count=1 -timeout $(TIMEOUT) $(PKGS)

lint:
	@out=$$(gofmt -l $$(git ls-files -co --exclude-standard -- '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)

# Starts orgid on SQLite and on PostgreSQL and runs the OpenID Foundation
# style plans against each (conformance/local.sh).
conformance:
	bash conformance/local.sh

bench:
	$(GO) test -run '^$$' -bench . -benchmem -count 6 $(PKGS)

clean:
	rm -rf bin
