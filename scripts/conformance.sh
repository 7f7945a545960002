#!/usr/bin/env bash
# Runs the official Engine.IO and/or Socket.IO protocol test suites against cmd/conformance.
#
#   scripts/conformance.sh [eio|sio|all] [runs]     (default: all 1)
#
# The suites come from git copies of socketio/engine.io-protocol and socketio/socket.io-protocol
# (EIO_PROTOCOL_GIT, SIO_PROTOCOL_GIT; bare repositories will do). They are extracted into a
# temporary folder, never into this repository, prepared as docs in
# shared/protocol/conformance-profile.md §5 describe (npm ci, ws@8.16.0, BASE_URL), and run with
# mocha against a server started on a free loopback port. Exit status: 0 when every run of every
# suite passed (or a suite copy is missing: skipped), 1 otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."

which=${1:-all}
runs=${2:-1}
EIO_PROTOCOL_GIT=${EIO_PROTOCOL_GIT:-/work/.mirror/socketio+engine.io-protocol/repo}
SIO_PROTOCOL_GIT=${SIO_PROTOCOL_GIT:-/work/.mirror/socketio+socket.io-protocol/repo}

case $which in
eio) suites=(eio) ;;
sio) suites=(sio) ;;
all) suites=(eio sio) ;;
*) echo "usage: $0 [eio|sio|all] [runs]" >&2; exit 2 ;;
esac

work=$(mktemp -d)
server_pid=
cleanup() {
	if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
	rm -rf "$work"
}
trap cleanup EXIT

# prepare NAME GITDIR: extract and install one suite; returns 1 when the copy is missing.
prepare() {
	local name=$1 git=$2
	if ! git -C "$git" rev-parse --verify -q HEAD:test-suite/test-suite.js >/dev/null 2>&1; then
		echo "$name: skipped: suite copy not found at $git"
		return 1
	fi
	mkdir -p "$work/$name"
	git -C "$git" archive HEAD test-suite | tar -x -C "$work/$name" --strip-components=1
	(
		cd "$work/$name"
		npm ci --no-audit --no-fund --loglevel=error >/dev/null
		# ws 8.16.0 delivers each frame in its own tick; other versions drop frames (§4.1).
		npm install --no-save --no-audit --no-fund --loglevel=error ws@8.16.0 >/dev/null
		sed -i 's#^const URL = "http://localhost:3000";#const URL = process.env.BASE_URL || "http://localhost:3000";#' test-suite.js
	)
}

ready=()
for s in "${suites[@]}"; do
	case $s in
	eio) git=$EIO_PROTOCOL_GIT ;;
	sio) git=$SIO_PROTOCOL_GIT ;;
	esac
	if prepare "$s" "$git"; then ready+=("$s"); fi
done
if [ ${#ready[@]} -eq 0 ]; then
	exit 0
fi

go build -o "$work/conformance" ./cmd/conformance
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$work/conformance" -addr "127.0.0.1:$port" >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do
	if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
	sleep 0.1
done

failed=0
for s in "${ready[@]}"; do
	for run in $(seq 1 "$runs"); do
		out="$work/$s-$run.json"
		(cd "$work/$s" && BASE_URL="http://127.0.0.1:$port" npx mocha --reporter json test-suite.js >"$out" 2>"$work/$s-$run.err") || true
		counts=$(node -e '
			const fs = require("fs");
			let r;
			try { r = JSON.parse(fs.readFileSync(process.argv[1], "utf8")); } catch (e) { console.log("0 0 unreadable"); process.exit(0); }
			const names = r.failures.map(f => f.fullTitle + ": " + (f.err && f.err.message || "")).join("\n  ");
			console.log(r.stats.passes + " " + r.stats.failures + (names ? "\n  " + names : ""));
		' "$out")
		read -r pass fail rest <<<"$(head -n1 <<<"$counts")"
		echo "$s run $run: $pass passed, $fail failed"
		if [ "$fail" != 0 ] || [ "$pass" = 0 ]; then
			failed=1
			tail -n +2 <<<"$counts"
			[ "$pass" = 0 ] && tail -20 "$work/$s-$run.err"
		fi
	done
done
if [ "$failed" != 0 ]; then
	echo "server log:"; tail -20 "$work/server.log"
fi
exit "$failed"
