#!/usr/bin/env bash
# ts-client-test.sh (make ts-client-test): builds the TypeScript example client
# in examples/ts-client and drives the four network-approval decisions with it
# against the real app-server binary and a local HTTP server on 127.0.0.1:
# once over stdio (the client spawns the server), once over WebSocket (one
# server on --listen ws://127.0.0.1:0 with a capability token).
#
# Environment: APP_SERVER=path uses that binary instead of building
# bin/app-server. Needs go, node, npm and curl (the server's commands run curl).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
client="$root/examples/ts-client"

for tool in node npm curl; do
	command -v "$tool" >/dev/null || { echo "ts-client-test: $tool not found" >&2; exit 1; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/ts-client-test.XXXXXX")
target_pid=
ws_pid=
cleanup() {
	for pid in $target_pid $ws_pid; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM # run the EXIT trap on ^C too

# The server binary: build it when missing, and when a Go file is newer, so a
# stale binary is never what passes.
if [ -n "${APP_SERVER:-}" ]; then
	server=$APP_SERVER
else
	server="$root/bin/app-server"
	if [ ! -x "$server" ] || [ -n "$(find "$root" -name node_modules -prune -o \( -name '*.go' -o -name go.mod -o -name go.sum \) -newer "$server" -print -quit)" ]; then
		echo "ts-client-test: building $server"
		(cd "$root" && go build -o "$server" ./cmd/app-server)
	fi
fi

echo "ts-client-test: npm ci"
(cd "$client" && npm ci --no-audit --no-fund --loglevel=error)
echo "ts-client-test: build (generate-ts, tsc --strict)"
(cd "$client" && APP_SERVER="$server" npm run --silent build)

# The client and the servers it starts make their temporary homes under
# TMPDIR, so removing $work removes them even after a crash or a timeout.
mkdir "$work/tmp"
export TMPDIR="$work/tmp"

node "$client/test/http-target.js" >"$work/target.out" &
target_pid=$!
port=
for _ in $(seq 50); do
	port=$(sed -n 's/^PORT \([0-9]*\)$/\1/p' "$work/target.out")
	[ -n "$port" ] && break
	kill -0 "$target_pid" 2>/dev/null || break
	sleep 0.1
done
if [ -z "$port" ]; then
	echo "ts-client-test: the HTTP target did not start" >&2
	exit 1
fi
echo "ts-client-test: HTTP target on 127.0.0.1:$port"

# count FILE PATTERN: lines of FILE matching the fixed string PATTERN.
count() { grep -cF -- "$2" "$1" || true; }

passed=0
failed=0
# run_decision MODE DECISION CLIENT-FLAGS...: one flow, checked.
run_decision() {
	local mode=$1 decision=$2
	shift 2
	local name="$mode-$decision"
	local out="$work/$name.out" err="$work/$name.err"
	local start rc=0 ms n want_hits want_turns want_status
	start=$(date +%s%N)
	# Each run gets its own path, so the target's log says which runs reached it.
	timeout 120 node "$client/dist/main.js" "$@" \
		--url "http://127.0.0.1:$port/$name" --decision "$decision" >"$out" 2>"$err" || rc=$?
	ms=$((($(date +%s%N) - start) / 1000000))

	# Cross-check the client's own verdict on the messages it printed.
	local problems=()
	[ "$rc" -eq 0 ] || problems+=("client exit code $rc")
	n=$(count "$out" '"method":"item/commandExecution/requestApproval"')
	[ "$n" -eq 1 ] || problems+=("$n approval requests, want 1")
	n=$(count "$out" '"method":"serverRequest/resolved"')
	[ "$n" -eq 1 ] || problems+=("$n serverRequest/resolved, want 1")
	case $decision in
	accept) want_hits=1 want_turns=1 want_status=completed ;;
	acceptForSession) want_hits=2 want_turns=2 want_status=completed ;; # the second turn runs on the grant
	decline) want_hits=0 want_turns=1 want_status=completed ;;
	cancel) want_hits=0 want_turns=1 want_status=interrupted ;;
	esac
	n=$(count "$out" '"method":"turn/completed"')
	[ "$n" -eq "$want_turns" ] || problems+=("$n turn/completed, want $want_turns")
	# Item statuses are never "interrupted", so this names the turn's status.
	if [ "$want_status" = interrupted ]; then
		grep -F '"method":"turn/completed"' "$out" | grep -qF '"status":"interrupted"' || problems+=("turn not interrupted")
	elif grep -F '"method":"turn/completed"' "$out" | grep -qF '"status":"interrupted"'; then
		problems+=("turn interrupted")
	fi
	n=$(grep -cx "HIT /$name" "$work/target.out" || true)
	[ "$n" -eq "$want_hits" ] || problems+=("target reached $n times, want $want_hits")

	if [ ${#problems[@]} -eq 0 ]; then
		passed=$((passed + 1))
		echo "ts-client-test: PASS $mode $decision (${ms} ms)"
	else
		failed=$((failed + 1))
		echo "ts-client-test: FAIL $mode $decision (${ms} ms): $(IFS=';'; echo "${problems[*]}")"
		echo "--- client stderr (last 30 lines)"
		tail -n 30 "$err"
		echo "--- messages received (last 20, cut at 300 characters)"
		tail -n 20 "$out" | cut -c1-300
		echo "---"
	fi
}

decisions="accept acceptForSession decline cancel"
for decision in $decisions; do
	run_decision stdio "$decision" --server "$server"
done

# The same flows over WebSocket: one server for all of them, started as an
# SDK would start Codex's listener, with a capability token.
ws_home="$work/ws-home"
mkdir "$ws_home"
printf '[network]\nallow_local_binding = true\n' >"$ws_home/config.toml"
token="$work/ws-token"
od -An -tx1 -N24 /dev/urandom | tr -d ' \n' >"$token"
# The log exists before the server starts: the loop below may read it before
# the background job has opened its redirect.
: >"$work/ws-server.err"
"$server" --home "$ws_home" app-server --listen ws://127.0.0.1:0 \
	--ws-auth capability-token --ws-token-file "$token" 2>"$work/ws-server.err" &
ws_pid=$!
ws_addr=
for _ in $(seq 100); do
	ws_addr=$(sed -n 's|^  listening on: ws://\(.*\)$|\1|p' "$work/ws-server.err")
	[ -n "$ws_addr" ] && break
	kill -0 "$ws_pid" 2>/dev/null || break
	sleep 0.1
done
if [ -z "$ws_addr" ]; then
	echo "ts-client-test: the WebSocket server did not start:" >&2
	cat "$work/ws-server.err" >&2
	exit 1
fi
echo "ts-client-test: WebSocket server on $ws_addr"
for decision in $decisions; do
	run_decision ws "$decision" --ws "ws://$ws_addr" --token-file "$token"
done

echo "ts-client: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
