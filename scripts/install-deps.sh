#!/usr/bin/env bash
# Installs the Debian packages the test suite drives as real peers (rsyslog
# for the syslog receiver tests; Node.js and npm for the Elasticsearch and
# Fluent Forward npm client tests; poppler-utils' pdftoppm and pdftotext to
# render the member report's PDF; PostgreSQL for the state store's tests,
# which run their own throwaway server: internal/store/pgtest), when they
# are missing. Go modules come through go.mod. Safe to run again: it does
# nothing when all are present.
set -euo pipefail

declare -A want=(
	[rsyslogd]="rsyslog rsyslog-gnutls"
	[logger]="bsdutils"
	[node]="nodejs"
	[npm]="npm"
	[chromium]="chromium"
	[pdftoppm]="poppler-utils"
)
pkgs=()
for cmd in "${!want[@]}"; do
	command -v "$cmd" >/dev/null 2>&1 || pkgs+=(${want[$cmd]})
done
# Debian's postgresql package puts initdb and postgres in
# /usr/lib/postgresql/VERSION/bin, not on PATH (pgtest looks in both).
if ! command -v initdb >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
	pkgs+=(postgresql)
fi
# rsyslog's TLS driver is a separate package.
if command -v rsyslogd >/dev/null 2>&1 && ! ls /usr/lib/*/rsyslog/lmnsd_gtls.so >/dev/null 2>&1; then
	pkgs+=(rsyslog-gnutls)
fi
[ ${#pkgs[@]} -eq 0 ] && exit 0

sudo=""
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null 2>&1 || { echo "install-deps: need root or sudo to install: ${pkgs[*]}" >&2; exit 1; }
	sudo=sudo
fi
echo "install-deps: installing ${pkgs[*]}" >&2
# Never start the packaged services: tests run their own, in the foreground.
policy=/usr/sbin/policy-rc.d
cleanup=""
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
	$sudo chmod +x "$policy"
	cleanup="$policy"
fi
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
[ -n "$cleanup" ] && $sudo rm -f "$cleanup"
exit 0
