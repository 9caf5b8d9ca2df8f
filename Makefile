# The two commands a newcomer needs; everything they use is installed into the repository.
# Each `## line` above a target is its entry in `make help` (the default target).
.DEFAULT_GOAL := help
.PHONY: help dev test deploy-checks seed-deployed token pay events unit dlq redrive load bench stop fmt

## List the targets, one line each.
help:
	@awk '/^## / { doc = substr($$0, 4); next } \
	     /^[a-z][a-z-]*:/ { if (doc != "") printf "  make %-15s %s\n", substr($$1, 1, length($$1) - 1), doc; doc = ""; next } \
	     { doc = "" }' $(MAKEFILE_LIST)

## Run the whole system locally: API on http://localhost:9000, a local Stripe (Ctrl-C stops it). PAYMENT_TIMEOUT_MINUTES=N: unpaid orders expire after N minutes; LOCAL_STRIPE=0: no payments.
dev:
	@scripts/preflight.sh dev
	scripts/stack.sh run

## Run every test: unit tests, then the integration suite on moto, DynamoDB Local and LocalStack (fresh local stacks).
test:
	@scripts/preflight.sh test
	@scripts/tools.sh test
	scripts/test.sh

## Before `sam deploy`: cfn-lint, sam validate --lint, sam build (arm64 release, one function at a time).
deploy-checks:
	@scripts/preflight.sh deploy
	scripts/deploy-checks.sh

## Load local/catalogue.json into a deployed stack (STACK=name, default samconfig's); adds only what is missing.
seed-deployed:
	scripts/seed-deployed.sh $(if $(STACK),--stack $(STACK))

## A bearer token from the local issuer: `make token CUSTOMER=<uuid>` or `make token ADMIN=1`.
token:
	@scripts/token.sh $(if $(ADMIN),--admin,--customer $(CUSTOMER))

## Pay for an order of the running `make dev` as its shopper's browser would: `make pay ORDER=<id> [METHOD=pm_card_chargeDeclined]`.
pay:
	@scripts/stack.sh pay $(ORDER) $(if $(METHOD),--method $(METHOD))

## Sample events for every function, made with the running `make dev` stack, in events/local/.
events:
	scripts/stack.sh events

## Unit tests only (no engine needed).
unit:
	cargo test --workspace --exclude integration-tests

## Show the local stack's dead letters (the SQS queue's, and the RabbitMQ queue's when it reads one).
dlq:
	scripts/stack.sh dlq

## Move the local stack's dead letters back to their queues.
redrive:
	scripts/stack.sh dlq --redrive

## Load run on DynamoDB Local, release builds: 1,000 orders from 20 clients, figures, CPU by part, every invariant; FAULTS=1 kills relay and consumer.
load:
	@scripts/preflight.sh dev
	scripts/load.sh $(if $(filter-out 0,$(FAULTS)),--faults)

## Benchmark on DynamoDB Local: every function's figures and targets, PASS/FAIL (~4 min once built).
bench:
	@scripts/preflight.sh bench
	scripts/bench.sh

## Stop a stack left running by `scripts/stack.sh start`.
stop:
	scripts/stack.sh stop

## Format the Rust code (cargo fmt).
fmt:
	cargo fmt --all
