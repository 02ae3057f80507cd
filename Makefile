# The platform's tasks. `make plan` and `make test` are the two commands a
# newcomer needs; see README.md.
GO    ?= go
STACK ?= dev
OUT   ?=
# POLICY_CONFIG: policy levels and settings, in the --policy-pack-config format
POLICY_CONFIG ?=
PLAN  ?=
# Test tools are pinned and built from source once per machine into
# TOOLS_DIR, outside the checkout, so a clean clone (CI) reuses them.
TOOLS_DIR        ?= /opt/ecommerce-tools
GOLANGCI_VERSION ?= v2.15.0
GOLANGCI         := $(TOOLS_DIR)/golangci-lint-$(GOLANGCI_VERSION)/golangci-lint
ACTIONLINT_VERSION ?= v1.7.12
ACTIONLINT         := $(TOOLS_DIR)/actionlint-$(ACTIONLINT_VERSION)/actionlint

.PHONY: plan plan-all cost diagram policy-check test test-infra test-services deps lint bench bench-infra bench-services run-local smoke pulumi kube-apiserver

## plan: what STACK would create and its policy report, offline under Pulumi's mock engine (OUT=file.json for the inventory); fails on a mandatory violation
plan:
	@$(GO) build -o bin/plan ./stacks/cmd/plan
	@bin/plan -stack $(STACK) $(if $(OUT),-out $(OUT)) $(if $(BASE),-base $(BASE)) $(if $(POLICY_CONFIG),-policy-config $(POLICY_CONFIG))

## policy-check: the policy pack over a plan file from `make plan OUT=` (PLAN=file.json); fails on a mandatory violation
policy-check:
	@test -n "$(PLAN)" || { echo "usage: make policy-check PLAN=plan.json [POLICY_CONFIG=config.json]" >&2; exit 2; }
	@$(GO) build -o bin/policy-check ./policies/cmd/policy-check
	@bin/policy-check -plan $(PLAN) $(if $(POLICY_CONFIG),-policy-config $(POLICY_CONFIG))

## cost: STACK's estimated monthly on-demand cost from its offline plan, per region and component, with every assumption (ASSUME="rps=50000 nat-gb=800" changes some)
cost:
	@$(GO) build -o bin/cost ./stacks/cmd/cost
	@bin/cost -stack $(STACK) $(foreach a,$(ASSUME),-assume $(a))

## diagram: docs/diagram-STACK.dot and .svg drawn from STACK's offline plan (Graphviz's dot, installed from Debian when missing)
diagram:
	@dot=$$(bash scripts/ensure-graphviz.sh) && \
	  $(GO) build -o bin/diagram ./stacks/cmd/diagram && \
	  bin/diagram -stack $(STACK) -out docs/diagram-$(STACK).dot && \
	  "$$dot" -Tsvg docs/diagram-$(STACK).dot -o docs/diagram-$(STACK).svg && \
	  echo "wrote docs/diagram-$(STACK).dot and docs/diagram-$(STACK).svg"

## plan-all: plan every shipped stack
plan-all:
	@for s in dev staging prod; do $(MAKE) --no-print-directory plan STACK=$$s OUT=plan-$$s.json || exit 1; done

## test: lint, infrastructure tests (mocks, then real `pulumi preview`s), service tests against real servers
test: lint test-infra test-services

test-infra: pulumi kube-apiserver
	$(GO) test -count=1 ./...

## pulumi: the Pulumi CLI the real-engine previews run, built once per machine (scripts/build-pulumi.sh)
pulumi:
	@GO=$(GO) TOOLS_DIR=$(TOOLS_DIR) bash scripts/build-pulumi.sh >/dev/null

## kube-apiserver: build kube-apiserver and etcd for the Kubernetes dry-run tests once (cached in TOOLS_DIR, linked into bin/)
kube-apiserver:
	@TOOLS_DIR=$(TOOLS_DIR) bash scripts/build-kube-apiserver.sh

## deps: start PostgreSQL, Redis and the SNS/SQS emulator the service tests use
deps:
	bash services/scripts/ci-deps.sh

test-services: deps
	$(MAKE) -C services test

## lint: gofmt, go vet and golangci-lint (.golangci.yml) over both modules; actionlint over every workflow
lint: $(GOLANGCI) $(ACTIONLINT)
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	cd services && $(GO) vet ./...
	$(GOLANGCI) run --allow-parallel-runners ./...
	cd services && $(GOLANGCI) run --allow-parallel-runners --config ../.golangci.yml ./...
	$(ACTIONLINT) -config-file .github/actionlint.yaml

# actionlint checks the workflows (expressions, contexts, reusable
# workflows' inputs, runner labels; their scripts with shellcheck when it is
# on the PATH). Built from the module proxy like golangci-lint.
$(ACTIONLINT):
	mkdir -p $(dir $@).partial
	GOBIN=$(dir $@).partial $(GO) install github.com/rhysd/actionlint/cmd/actionlint@$(ACTIONLINT_VERSION)
	mv $(dir $@).partial/actionlint $@

$(GOLANGCI):
	mkdir -p $(dir $@).partial
	GOBIN=$(dir $@).partial $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_VERSION)
	mv $(dir $@).partial/golangci-lint $@

## bench: BenchmarkPlan for every stack, then the service benchmarks
bench: bench-infra bench-services

bench-infra:
	$(GO) test -run '^$$' -bench BenchmarkPlan -benchmem -count=1 ./stacks/

bench-services: deps
	$(MAKE) -C services bench

## run-local: all four services on local PostgreSQL, Redis and the emulator
run-local: deps
	$(MAKE) -C services run-local

## smoke: walk the whole flow against run-local with curl
smoke:
	$(MAKE) -C services smoke
