#!/usr/bin/env bash
# Set up, build, and watch the bundled demo workload (a mapped-file leak).
# On a terminal this is the interactive screen; otherwise batch reports.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh >/dev/null
if [ -t 1 ]; then
	exec build/memtop --demo "$@"
fi
exec build/memtop --demo -b -d 2 -n 5 "$@"
