#!/bin/sh
# What tests/containerlike.py needs to simulate a container with Docker's default profile (root without
# CAP_SYS_ADMIN and without user namespaces, yet able to setuid): newuidmap/newgidmap (Debian's uidmap) and a
# root:0:100000 range in /etc/subuid and /etc/subgid. Also, the sandbox uids (60001...) of the uid-seccomp level
# must be able to reach the Python that runs the grader: a folder above it that other users may not search
# (pyenv under a 0700 /root) gets o+x -- search only, its listing stays private.
# Idempotent and quiet; a no-op success when not root.
set -e
[ "$(id -u)" = 0 ] || exit 0
if ! command -v newuidmap >/dev/null 2>&1; then
    if command -v apt-get >/dev/null 2>&1; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq uidmap >/dev/null 2>&1 || {
            apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq uidmap >/dev/null 2>&1; } || true
    fi
fi
for f in /etc/subuid /etc/subgid; do
    grep -qs '^root:0:100000$' "$f" || echo 'root:0:100000' >> "$f"
done
python="${1:-$(dirname "$0")/../.venv/bin/python}"
if [ -x "$python" ]; then
    for dir in $("$python" -c 'import os, sys
paths = {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, os.path.dirname(os.path.realpath(sys.executable)))}
seen = set()
for p in sorted(paths):
    parts = p.split("/")
    for i in range(2, len(parts) + 1):
        folder = "/".join(parts[:i])
        if folder not in seen and os.path.isdir(folder) and not os.stat(folder).st_mode & 0o001:
            seen.add(folder); print(folder)'); do
        chmod o+x "$dir"
    done
fi
exit 0
