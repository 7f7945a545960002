#!/usr/bin/env bash
# The project's test command (README "Test"). It prepares what the tests need and runs them all:
#   - the pinned npm packages of test/node (npm ci when node_modules is missing),
#   - a Redis server: uses $REDIS_URL, else 127.0.0.1:6379 when one answers there, else starts a
#     private redis-server on a free loopback port for the duration of the run,
#   - gofmt, go vet, staticcheck (when installed), go test -race ./...,
#   - the official Engine.IO and Socket.IO protocol suites when copies of their repositories are
#     present (see scripts/conformance.sh; skipped with a message otherwise).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

cleanup() {
	if [ -n "${redis_pid:-}" ]; then kill "$redis_pid" 2>/dev/null || true; fi
	if [ -n "${redis_dir:-}" ]; then rm -rf "$redis_dir"; fi
}
trap cleanup EXIT

echo "== npm packages (test/node)"
if [ ! -d test/node/node_modules/socket.io-client ]; then
	(cd test/node && npm ci --no-audit --no-fund)
fi

echo "== redis"
redis_answers() { # host port
	command -v redis-cli >/dev/null 2>&1 && redis-cli -h "$1" -p "$2" ping 2>/dev/null | grep -q PONG
}
if [ -z "${REDIS_URL:-}" ]; then
	if redis_answers 127.0.0.1 6379; then
		export REDIS_URL=redis://127.0.0.1:6379
	elif command -v redis-server >/dev/null 2>&1; then
		redis_dir=$(mktemp -d)
		port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
		redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$redis_dir" >"$redis_dir/log" 2>&1 &
		redis_pid=$!
		for _ in $(seq 1 50); do redis_answers 127.0.0.1 "$port" && break; sleep 0.1; done
		export REDIS_URL=redis://127.0.0.1:$port
	else
		echo "no Redis answers and redis-server is not installed: tests that need Redis will be skipped"
	fi
fi
echo "REDIS_URL=${REDIS_URL:-<none>}"

echo "== gofmt, go vet, staticcheck"
unformatted=$(gofmt -l $(git ls-files '*.go') 2>/dev/null || true)
if [ -n "$unformatted" ]; then echo "gofmt would change:"; echo "$unformatted"; exit 1; fi
go vet ./...
if command -v staticcheck >/dev/null 2>&1; then staticcheck ./...; else echo "staticcheck not installed: skipped"; fi

echo "== go test -race"
go test -race -count=1 -timeout 15m ./...

echo "== official protocol suites"
if [ -x scripts/conformance.sh ]; then
	scripts/conformance.sh all 2
else
	echo "scripts/conformance.sh not present: skipped"
fi
