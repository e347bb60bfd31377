#!/usr/bin/env bash
# Install everything the test suite needs on a fresh machine (python3.11, node 20, npm).
# Idempotent: safe to run again. Usage: bash tests/install.sh
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

# System packages the suite needs (Debian): PostgreSQL, which the database tests also run on;
# Chromium and a CJK font for the browser tests (Chinese pages need the glyphs).
missing=()
compgen -G "/usr/lib/postgresql/*/bin/postgres" > /dev/null || missing+=(postgresql)
[[ -x /usr/bin/chromium ]] || missing+=(chromium)
dpkg-query -W -f='${Status}' fonts-noto-cjk 2> /dev/null | grep -q "ok installed" \
    || missing+=(fonts-noto-cjk)
if (( ${#missing[@]} )); then
    if [[ $(id -u) -ne 0 ]]; then
        echo "tests/install.sh: run as root to install: ${missing[*]}" >&2
        exit 1
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Python: the project's own virtualenv at .venv, unless a virtualenv is already active.
if [[ -z "${VIRTUAL_ENV:-}" ]]; then
    if [[ ! -x .venv/bin/python ]]; then
        python3 -m venv .venv
    fi
    python=.venv/bin/python
else
    python="$VIRTUAL_ENV/bin/python"
fi
"$python" -m pip install --quiet --upgrade pip setuptools
"$python" -m pip install --quiet -e '.[test]'

# JavaScript, exactly as locked: anvil, the independent VC verifier and the wallet libraries;
# then the W3C test suites.
npm ci --prefix tests/js --no-audit --no-fund
npm ci --prefix tests/w3c --no-audit --no-fund

echo "tests/install.sh: done (python: $("$python" --version), node: $(node --version))"
