#!/usr/bin/env bash
# Every test with the race detector (make race). The output of a failing
# run is long, and what failed (a panic, a fatal error, a data race, a
# failed test) is often far from its end, where a CI log is read: on
# failure, the first lines of each are repeated last.
set -uo pipefail
GO=${GO:-go}
log=$(mktemp)
trap 'rm -f "$log"' EXIT

"$GO" test -race -count=1 -timeout 20m "${@:-./...}" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
if [ "$rc" -ne 0 ]; then
	echo
	echo "=== make race failed: the first lines of each failure ==="
	# A panic or fatal error's cause is its message and the top frames of
	# the goroutine that raised it; a data race's, both accesses' tops.
	grep -n -A20 -E '^(panic: |fatal error: |WARNING: DATA RACE|SIGQUIT|--- FAIL: )' "$log" | head -n 200
	grep -E '^(FAIL|ok  )	' "$log" | grep '^FAIL' || true
fi
exit "$rc"
