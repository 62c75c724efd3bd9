#!/bin/sh
# Chromium for the browser tests (`make test-web`) and `make bench-web`: Debian's package,
# the system executable that Playwright drives (no browser is downloaded). When it is missing
# and we are root (as CI is), install it without questions; otherwise say how, and fail.
# $MINIFRAME_CHROMIUM names another Chromium executable to use instead.
set -eu
if [ -n "${MINIFRAME_CHROMIUM:-}" ]; then
    if [ -x "$MINIFRAME_CHROMIUM" ]; then exit 0; fi
    echo "ensure-chromium: MINIFRAME_CHROMIUM=$MINIFRAME_CHROMIUM is not an executable" >&2
    exit 1
fi
if command -v chromium >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "ensure-chromium: Chromium is missing; install it (sudo apt-get install -y chromium)" \
         "or set MINIFRAME_CHROMIUM to a Chromium executable" >&2
    exit 1
fi
echo "ensure-chromium: installing Debian's chromium package (apt-get, about a minute)"
export DEBIAN_FRONTEND=noninteractive
apt_get() { apt-get -q -o DPkg::Lock::Timeout=300 "$@"; }
apt_get update >/dev/null || { sleep 10; apt_get update >/dev/null; }
apt_get install -y chromium >/dev/null
command -v chromium >/dev/null 2>&1 || { echo "ensure-chromium: chromium did not install" >&2; exit 1; }
echo "ensure-chromium: $(chromium --version 2>/dev/null || echo chromium installed)"
