#!/bin/sh
# The browser tests (tests/e2e) drive Debian's Chromium headless shell at /usr/bin/chromium-headless-shell
# through Playwright; Playwright's own browser downloads are not used. The shell is Chromium's engine without the
# browser around it: the same pages, at half the CPU of the full browser run headless.
set -eu

BROWSER=/usr/bin/chromium-headless-shell

if [ -x "$BROWSER" ]; then
    exit 0
fi

if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing Chromium's headless shell for the browser tests (apt-get install chromium-headless-shell)..."
    export DEBIAN_FRONTEND=noninteractive
    # The package lists may be stale or absent on a new machine: refresh them only when the install fails.
    apt-get install -y --no-install-recommends chromium-headless-shell \
        || { apt-get update && apt-get install -y --no-install-recommends chromium-headless-shell; }
    exit 0
fi

cat >&2 <<MSG
*** $BROWSER is missing: the browser tests in tests/e2e will fail.
*** Install it as root with:  apt-get install -y chromium-headless-shell
MSG
