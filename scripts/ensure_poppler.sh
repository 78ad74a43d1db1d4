#!/bin/sh
# The report tests render the PDF's pages with poppler's pdftoppm and read its words back with pdftotext
# (Debian's poppler-utils).
set -eu

if command -v pdftoppm >/dev/null 2>&1 && command -v pdftotext >/dev/null 2>&1; then
    exit 0
fi

if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing poppler-utils for the report tests (apt-get install poppler-utils)..."
    export DEBIAN_FRONTEND=noninteractive
    # The package lists may be stale or absent on a new machine: refresh them only when the install fails.
    apt-get install -y --no-install-recommends poppler-utils \
        || { apt-get update && apt-get install -y --no-install-recommends poppler-utils; }
    exit 0
fi

cat >&2 <<'MSG'
*** pdftoppm is missing: the PDF layout tests in tests/reports will be skipped.
*** Install it as root with:  apt-get install -y poppler-utils
MSG
