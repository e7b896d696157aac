#!/bin/sh
# check.sh type-checks the generated TypeScript (testdata/schema/typescript)
# with the compiler pinned in package-lock.json, in strict mode.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

cd "$here"
if [ ! -d node_modules/typescript ]; then
	npm ci --no-audit --no-fund
fi

set -- "$root"/testdata/schema/typescript/*.ts
if [ ! -e "$1" ]; then
	echo "check.sh: no TypeScript files in $root/testdata/schema/typescript" >&2
	exit 1
fi

npx --no-install tsc --noEmit --strict --target es2020 --module es2020 \
	--moduleResolution bundler --isolatedModules --verbatimModuleSyntax "$@"
echo "tsc: $# files type-check"
