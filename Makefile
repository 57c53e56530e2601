# kcloud — make targets. `make test` is what CI runs.

GO        ?= go
BIN       := $(CURDIR)/bin
KCLOUD    := $(BIN)/kcloud
# The test control plane (kube-apiserver, etcd, kubectl) lives in bin/ too;
# envtest finds it through KUBEBUILDER_ASSETS.
export KUBEBUILDER_ASSETS := $(BIN)
# specs/ ships encrypted to the public demo key (hack/demo.agekey, demo only):
# sops reads it from here unless the caller set a key file of their own.
export SOPS_AGE_KEY_FILE ?= $(CURDIR)/hack/demo.agekey
STATICCHECK_VERSION := v0.8.2

.PHONY: all build release specs test unit lint cue-vet testbin bench demo clean fuzz docs

all: build

build:
	$(GO) build -o $(KCLOUD) ./cmd/kcloud

# release builds the binary people download: no local paths (-trimpath),
# no symbol table or DWARF (-s -w), the version stamped (default: git
# describe) and the commit recorded by the go command (-buildvcs; a git
# worktree, whose .git is a file, gets no vcs.* settings).
VERSION     ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
RELEASE_OUT ?= $(BIN)/kcloud
release:
	$(GO) build -trimpath -buildvcs=true -ldflags '-s -w -X main.version=$(VERSION)' -o $(RELEASE_OUT) ./cmd/kcloud
	@ls -l $(RELEASE_OUT) | awk '{printf "%s: %.1f MB\n", $$NF, $$5/1e6}'

# specs vets, renders and lists the images of the real platform's specs/
# (offline), on a copy with stand-in ${NAME}s and its manifest cache filled
# offline (specs_copy in hack/lib.sh): what a user sees with the key, the
# cache filled and ${VPS_HOST} set.
specs: build
	@bash -c 'set -euo pipefail; kcloud=$(KCLOUD); source hack/lib.sh; tmp=$$(mktemp -d); trap "rm -rf $$tmp" EXIT; \
	  specs_copy specs "$$tmp/specs"; $(KCLOUD) vet "$$tmp/specs"; $(KCLOUD) images "$$tmp/specs"; \
	  $(KCLOUD) render "$$tmp/specs" | grep -c "^kind:" | xargs echo "objects rendered:"'

# testbin builds kube-apiserver, etcd and kubectl v1.37.2 from the Go module
# proxy into bin/ (≈4–8 min cold, seconds when cached).
testbin:
	@hack/testbin/build.sh $(BIN)
	@# cert-manager's real CRDs for the test control plane (testenv.CertManagerModule),
	@# into the module cache; outside kcloud's module so go.mod stays as it is.
	@cd / && $(GO) mod download github.com/cert-manager/cert-manager@v1.16.2

# cmd/kcloud's live tests (the crash loop among them) outgrow go test's
# default 10 minutes per package on a loaded machine.
# Tests record what they leave out (a pinned input they cannot have
# offline) in $(BIN)/test-notes; go test shows a passing test's log only
# with -v, so the notes are printed after the tests, pass or fail.
test: lint cue-vet testbin
	@rm -rf $(BIN)/test-notes && mkdir -p $(BIN)/test-notes
	@KCLOUD_TEST_NOTES=$(BIN)/test-notes $(GO) test -count=1 -timeout 30m ./...; code=$$?; \
	  if [ -s $(BIN)/test-notes/notes.txt ]; then echo "left out by the tests:"; sort -u $(BIN)/test-notes/notes.txt | sed 's/^/  /'; fi; \
	  exit $$code
	$(MAKE) fuzz FUZZTIME=3000x

# fuzz runs each fuzz target for FUZZTIME: a duration, or a count of
# inputs ("3000x", as make test does: 3–11 s each here). A duration races
# Go's fuzzing coordinator at its deadline: with go1.26.8 a run can fail
# with "context deadline exceeded" and no failing input
# (https://github.com/golang/go/issues/75804; src/internal/fuzz/fuzz.go
# sets that deadline only for a duration), so CI fuzzes a count.
# A failing input is saved under the package's testdata/fuzz/, where plain
# `go test` runs it from then on: commit it as a regression case.
FUZZTIME ?= 60s
FUZZ_TARGETS := ./pkg/spec:FuzzLoad ./pkg/spec:FuzzParseManifest ./pkg/render:FuzzRender ./pkg/secret:FuzzDecrypt
fuzz:
	@for t in $(FUZZ_TARGETS); do \
	  pkg=$${t%%:*}; fn=$${t##*:}; \
	  echo "fuzz $$fn ($$pkg) for $(FUZZTIME)"; \
	  $(GO) test $$pkg -run '^$$' -fuzz "^$$fn\$$" -fuzztime $(FUZZTIME) -parallel 1 || exit 1; \
	done

# unit runs the tests without the lint gate (faster while iterating).
unit: testbin
	$(GO) test ./...

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' | grep -v '^hack/testbin/')); \
	  if [ -n "$$out" ]; then echo "gofmt needs to run on:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...

# cue-vet formats and vets the schema (fails when cue fmt would change it).
cue-vet:
	@$(GO) run cuelang.org/go/cmd/cue@v0.17.1 fmt --check ./schema/ || \
	  { echo "schema/: run 'go run cuelang.org/go/cmd/cue@v0.17.1 fmt ./schema/'"; exit 1; }
	$(GO) run cuelang.org/go/cmd/cue@v0.17.1 vet -c=false ./schema/

# bench: Go benchmarks of vet/render, whole-process timings of vet/render
# (median wall, peak RSS), kcloud vs kubectl vs the floor (hack/floor) on
# the real API server, written to bench/RESULTS.md (hack/bench.sh: COUNT=5
# samples, SIZES="1000 4000 10000" objects), and chart renders vs helm
# template (hack/bench-charts.sh).
bench: build testbin
	$(GO) test -run '^$$' -bench 'Vet|Render' -benchmem -count 5 ./cmd/kcloud
	hack/bench-vet.sh
	hack/bench.sh
	hack/bench-charts.sh

# docs regenerates docs/commands/ (every command's help, from cobra) and
# docs/tables.md (kcloud docs); cmd/kcloud's TestCommandDocs fails when
# they are stale.
docs:
	KCLOUD_UPDATE=1 $(GO) test ./cmd/kcloud -count=1 -run '^TestCommandDocs$$'

demo: build testbin
	@hack/demo.sh

clean:
	rm -f $(KCLOUD)
