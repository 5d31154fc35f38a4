#!/usr/bin/env bash
# Install what Bailanys needs and is missing: Debian packages (as root),
# then a virtual environment with the project and its dev extras.
# Idempotent: a second run with nothing missing does nothing slow.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
DEB_PKGS=(sip-tester espeak-ng python3-venv gcc python3-dev asterisk-core-sounds-ru-wav ffmpeg graphviz chromium kannel kannel-extras prometheus poppler-utils fonts-dejavu-core
          postgresql kamailio kamailio-postgres-modules)
# postgresql and kamailio (issue 22's cluster tests) are started by the tests in temp
# dirs on free ports; their packages' own services must not start on install (a
# proxy on 5060, a cluster on 5432): policy-rc.d says no to invoke-rc.d meanwhile.

missing=()
for p in "${DEB_PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "ensure-deps: missing Debian packages: ${missing[*]} (run as root, or: sudo apt-get install ${missing[*]})" >&2
        exit 1
    fi
    echo "ensure-deps: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    policy=/usr/sbin/policy-rc.d
    had_policy=0; [ -e "$policy" ] && had_policy=1
    if [ $had_policy -eq 0 ]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy"; chmod +x "$policy"
        trap 'rm -f "$policy"' EXIT
    fi
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

stamp="$VENV/.bailanys-deps"
if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
fi
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    "$VENV/bin/pip" install -q --upgrade pip >/dev/null
    "$VENV/bin/pip" install -q -e ".[dev]"
    touch "$stamp"
fi
