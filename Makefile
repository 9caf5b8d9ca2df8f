# The two commands a newcomer needs; everything they use is installed into the repository.
.PHONY: dev test deploy-checks token unit dlq redrive load bench stop fmt

## Run the whole system locally: API on http://localhost:9000 (Ctrl-C stops it).
dev:
	scripts/stack.sh run

## Run every test: unit tests, then the integration suite on moto and on DynamoDB Local (fresh local stacks).
test:
	scripts/test.sh

## Before `sam deploy`: cfn-lint, sam validate --lint, cargo lambda build --release --arm64, sam build.
deploy-checks:
	scripts/deploy-checks.sh

## A bearer token from the local issuer: `make token CUSTOMER=<uuid>` or `make token ADMIN=1`.
token:
	@scripts/token.sh $(if $(ADMIN),--admin,--customer $(CUSTOMER))

## Unit tests only (no engine needed).
unit:
	cargo test --workspace --exclude integration-tests

## Show the order_created dead-letter queue of the local stack; `make redrive` moves it back.
dlq:
	scripts/stack.sh dlq

redrive:
	scripts/stack.sh dlq --redrive

## Load run: 1,000 orders from 20 concurrent clients; prints figures and what it checked.
load:
	scripts/load.sh

## Benchmark: release binaries under a local Lambda Runtime API; prints figures, writes target/bench/.
bench:
	scripts/bench.sh

## Stop a stack left running by `scripts/stack.sh start`.
stop:
	scripts/stack.sh stop

fmt:
	cargo fmt --all
