#!/usr/bin/env bash
# Installs the browser the console's Playwright tests drive: Debian's `chromium` package at /usr/bin/chromium.
# Playwright never downloads a browser here (its tests launch this binary through `executable_path`).
# Idempotent: does nothing when /usr/bin/chromium exists. Needs root (or passwordless sudo) when it is missing.
# When it cannot be installed (no root, no Debian), the browser tests skip with a message saying so; the rest of
# the suite still runs, so this script warns instead of failing `make install`.
set -uo pipefail

CHROMIUM=/usr/bin/chromium
if [ -x "$CHROMIUM" ]; then
    echo "install-browser: $CHROMIUM already present"
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo -n"; else
        echo "install-browser: WARNING need root to install chromium; the browser tests will be skipped" >&2
        exit 0
    fi
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-browser: WARNING no apt-get (not Debian); the browser tests will be skipped" >&2
    exit 0
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q && $SUDO apt-get install -y -q --no-install-recommends chromium
if [ -x "$CHROMIUM" ]; then
    echo "install-browser: installed chromium ($("$CHROMIUM" --version 2>/dev/null))"
else
    echo "install-browser: WARNING chromium could not be installed; the browser tests will be skipped" >&2
fi
