#!/bin/sh
# Runs cmd/sandboxbench (the OS sandbox's cost against bubblewrap and an
# unsandboxed run), installing bubblewrap first when it is missing: the
# comparison needs it, app-server never runs it. Arguments go to
# sandboxbench (e.g. -out docs/BENCHMARKS.md).
set -eu
if ! command -v bwrap >/dev/null 2>&1; then
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo="sudo"
	$sudo apt-get update
	$sudo apt-get install -y bubblewrap
fi
exec ${GO:-go} run ./cmd/sandboxbench "$@"
