#!/bin/sh
# The headless browser the page tests look through (Debian's chromium): installed when missing, as root.
# Idempotent and quiet; a no-op success when not root or when chromium is already there (the tests skip without it).
[ -x /usr/bin/chromium ] && exit 0
[ "$(id -u)" = 0 ] || exit 0
command -v apt-get >/dev/null 2>&1 || exit 0
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -qq chromium >/dev/null 2>&1 || {
    apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq chromium >/dev/null 2>&1; } || true
exit 0
