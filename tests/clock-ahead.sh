#!/usr/bin/env bash
# Runs a command with the wall clock DAYS days ahead in it and in every process it starts (Python,
# the simulator, Streamlit, PostgreSQL, SQLite), through tests/clock_ahead.c; the monotonic clock,
# which thread waits and timeouts use, stays as it is. Needs a C compiler (tests/install-debian-packages.sh).
#   bash tests/clock-ahead.sh 365 .venv/bin/python -m pytest -m "not browser"
set -euo pipefail
[ $# -ge 2 ] || { echo "uso: $0 DÍAS comando [argumentos...]" >&2; exit 2; }
days=$1
shift
dir=$(mktemp -d)
chmod 755 "$dir"  # PostgreSQL runs as postgres when the tests run as root: it must read the library too
trap 'rm -rf "$dir"' EXIT
command -v cc >/dev/null || { echo "Falta un compilador de C: bash tests/install-debian-packages.sh" >&2; exit 2; }
cc -O2 -shared -fPIC -o "$dir/clock_ahead.so" "$(dirname "$0")/clock_ahead.c" -ldl
CLOCK_AHEAD_DAYS=$days LD_PRELOAD="$dir/clock_ahead.so${LD_PRELOAD:+:$LD_PRELOAD}" "$@"
