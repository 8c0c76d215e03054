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
# Run inside a run already ahead (tests/store/test_clock_ahead.py in such a run): DAYS more than the clock the
# caller reads, by one library in place of the caller's, as two stacked would both add the sum.
IFS=': ' read -r -a preloaded <<< "${LD_PRELOAD:-}"
others=()
for lib in "${preloaded[@]}"; do [[ $lib == */clock_ahead.so ]] || others+=("$lib"); done
others_joined=$(IFS=:; echo "${others[*]}")
CLOCK_AHEAD_DAYS=$((${CLOCK_AHEAD_DAYS:-0} + days)) LD_PRELOAD="$dir/clock_ahead.so${others_joined:+:$others_joined}" "$@"
