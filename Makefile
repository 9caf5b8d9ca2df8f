# The two commands a newcomer needs; everything they use is installed into the repository.
.PHONY: dev test unit stop fmt

## Run the whole system locally: API on http://localhost:9000 (Ctrl-C stops it).
dev:
	scripts/stack.sh run

## Run every test: unit tests, then the integration suite against a fresh local stack.
test:
	scripts/test.sh

## Unit tests only (no engine needed).
unit:
	cargo test --workspace --exclude integration-tests

## Stop a stack left running by `scripts/stack.sh start`.
stop:
	scripts/stack.sh stop

fmt:
	cargo fmt --all
