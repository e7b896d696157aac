#!/usr/bin/env bash
# install.sh installs the reference server, Codex CLI 0.169.0, from the npm
# registry into a cache directory (reused when present) and prints a path:
#
#   tools/codex/install.sh bin      the codex binary (run it as "codex app-server")
#   tools/codex/install.sh schema   the directory of its published JSON Schema
#                                   (codex app-server generate-json-schema), generated once
#
# The cache is $CODEX_CACHE/0.169.0, by default ~/.cache/codex-reference/0.169.0.
# Progress goes to stderr; only the path goes to stdout. Needs npm.
set -euo pipefail

version=0.169.0
what=${1:-bin}
cache=${CODEX_CACHE:-$HOME/.cache/codex-reference}
dir=$cache/$version
bin=$dir/node_modules/@openai/codex-linux-x64/vendor/x86_64-unknown-linux-musl/bin/codex

case $what in
bin | schema) ;;
*)
	echo "usage: $0 bin|schema" >&2
	exit 2
	;;
esac

if [ ! -x "$bin" ]; then
	command -v npm >/dev/null || { echo "install.sh: npm not found (apt-get install -y npm)" >&2; exit 1; }
	echo "install.sh: installing @openai/codex@$version into $dir" >&2
	mkdir -p "$dir"
	(
		cd "$dir"
		[ -f package.json ] || npm init -y >/dev/null
		npm install --no-audit --no-fund --loglevel=error "@openai/codex@$version" >&2
	)
	[ -x "$bin" ] || { echo "install.sh: $bin missing after npm install (only linux x64 is supported)" >&2; exit 1; }
fi

if [ "$what" = bin ]; then
	echo "$bin"
	exit 0
fi

if [ ! -f "$dir/schema/ServerRequest.json" ]; then
	echo "install.sh: generating the Codex $version schema into $dir/schema" >&2
	home=$(mktemp -d)
	trap 'rm -rf "$home" "$dir/schema.tmp"' EXIT
	CODEX_HOME=$home "$bin" app-server generate-json-schema --out "$dir/schema.tmp" >/dev/null
	rm -rf "$dir/schema"
	mv "$dir/schema.tmp" "$dir/schema"
fi
echo "$dir/schema"
