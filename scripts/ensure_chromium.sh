#!/bin/sh
# The browser tests (tests/e2e) drive Debian's Chromium at /usr/bin/chromium through Playwright;
# Playwright's own browser downloads are not used.
set -eu

if [ -x /usr/bin/chromium ]; then
    exit 0
fi

if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing Chromium for the browser tests (apt-get install chromium)..."
    export DEBIAN_FRONTEND=noninteractive
    # The package lists may be stale or absent on a new machine: refresh them only when the install fails.
    apt-get install -y --no-install-recommends chromium \
        || { apt-get update && apt-get install -y --no-install-recommends chromium; }
    exit 0
fi

cat >&2 <<'MSG'
*** /usr/bin/chromium is missing: the browser tests in tests/e2e will fail.
*** Install it as root with:  apt-get install -y chromium
MSG
