#!/usr/bin/env bash
# Install the system tools the tests and the demo need, only when missing:
# git, Mercurial, PostgreSQL, and Chromium (headless, for the Fleet page test).
# Runs as root on CI and developer machines (apt-get); prints what it did.
set -euo pipefail
need=()
command -v git >/dev/null || need+=(git)
command -v hg >/dev/null || need+=(mercurial)
if ! command -v initdb >/dev/null && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    need+=(postgresql)
fi
command -v psql >/dev/null || need+=(postgresql-client)
id postgres >/dev/null 2>&1 || need+=(postgresql)
# The Fleet page's end-to-end test and the docs screenshot: headless Chromium.
command -v chromium >/dev/null || need+=(chromium)
if [ ${#need[@]} -gt 0 ]; then
    if [ "$(id -u)" != 0 ]; then
        echo "missing system packages: ${need[*]} (run as root or install them)" >&2
        exit 1
    fi
    echo "installing system packages: ${need[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
