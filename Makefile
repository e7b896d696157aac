.PHONY: ts-client-test

# Builds examples/ts-client (vscode-jsonrpc + generated types) and drives the
# four network-approval decisions against the real binary.
ts-client-test:
	bash scripts/ts-client-test.sh
