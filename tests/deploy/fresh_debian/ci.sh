#!/bin/bash
# Runs .ci/run on a clean clone of this repository inside a fresh Debian 12 guest, where nothing was
# installed by hand (only python3-venv and git, which the CI image has): the README's test command
# must install everything else itself. As root; about 4 minutes. Not part of the test suite.
set -euo pipefail
source "$(dirname "$0")/guest.sh"

guest_boot ci
say "a clean clone and .ci/run in the guest"
guest 'apt-get update -qq && apt-get install -y -qq python3-venv git >/dev/null
git clone -q /srv/contingencia /root/contingencia && cd /root/contingencia && git log -1 --oneline
time CI=true bash .ci/run'
echo
echo "OK: .ci/run passed on a clean clone in a fresh Debian 12."
