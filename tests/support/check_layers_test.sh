#!/usr/bin/env bash
# The layer check can fail: on a copy of the tree it passes, then each
# kind of violation planted in the copy makes it fail, naming the file.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/scripts"
cp "$root/scripts/check-layers.sh" "$tmp/scripts/"
cp -r "$root/src" "$root/include" "$root/tests" "$root/bench" "$tmp/"

"$tmp/scripts/check-layers.sh" || { echo "FAIL: the clean tree does not pass"; exit 1; }

# expect FILE LINE WORDS: with LINE prepended to FILE the check fails and
# its message holds WORDS; then FILE is put back.
expect() {
	local f=$tmp/$1 line=$2 words=$3 out
	cp "$f" "$f.orig"
	{ echo "$line"; cat "$f.orig"; } > "$f"
	if out=$("$tmp/scripts/check-layers.sh" 2>&1); then
		echo "FAIL: $1 with '$line' passed"; exit 1
	fi
	case $out in
	*"$1"*"$words"*) ;;
	*) echo "FAIL: $1 with '$line': unexpected message: $out"; exit 1 ;;
	esac
	mv "$f.orig" "$f"
}
expect src/model/gaps.c '#include "memtop/proc.h"' "model may not include source"
expect src/model/gaps.c '#include <unistd.h>' "the model includes only the C library"
expect src/source/maps.c '#include "memtop/scan.h"' "source may not include analysis"
expect src/source/proc.c '#include "memtop/options.h"' "must be given flags"
expect src/analysis/scan.c '#include "memtop/batch.h"' "analysis may not include sink"
expect src/store/replay.c '#include "memtop/tui.h"' "store may not include tui"
expect src/sink/batch.c '#include <sqlite3.h>' "only store may"
expect src/tui/views.c '#include "../model/gaps.c"' "not a header of its own folder"
expect tests/unit/test_gaps.c '#include "../../src/tui/list.h"' "path into src/"
"$tmp/scripts/check-layers.sh" || { echo "FAIL: the restored tree does not pass"; exit 1; }
echo "check-layers: every planted violation was caught"
