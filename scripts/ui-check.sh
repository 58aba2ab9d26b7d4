#!/usr/bin/env bash
# Rebuilds the web console from its sources (make ui) and fails when the
# committed build in web/dist differs: the embedded console must be what
# the sources build, byte for byte. Also type-checks the sources and runs
# the message-catalogue test. Needs node and npm (scripts/install-deps.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

make ui
(cd web && npm run check)
if ! git diff --exit-code --stat -- web/dist || [ -n "$(git ls-files --others --exclude-standard -- web/dist)" ]; then
	echo "ui-check: web/dist differs from what the sources build: run make ui and commit web/dist" >&2
	git ls-files --others --exclude-standard -- web/dist >&2
	exit 1
fi
echo "ui-check: web/dist is what the sources build"
