#!/usr/bin/env bash
# Layers point one way (docs/hacking.md): each folder of src/ may include
# the public headers (include/memtop/) of its own layer and of the layers
# below it, and only the owning layer may include a library's headers.
#   model < source < analysis < store < session < sink < tui < main.c
# A header belongs to the layer whose folder holds its .c file (noun.h ->
# src/LAYER/noun.c); the few without one are listed below.  The model
# includes nothing outside the C library; tests reach no header by a path
# into src/.  Prints every violation; exit 1 if there is one.
set -euo pipefail
cd "$(dirname "$0")/.."

declare -A rank=([model]=0 [source]=1 [analysis]=2 [store]=3 [session]=4 [sink]=5
	[tui]=6 [main]=7)
# Headers without a .c file of their own.
declare -A layer=([vec.h]=model [hash.h]=model [clock.h]=model [arch.h]=model [options.h]=cli
	[refs.h]=sink)
# The command line's options: read by the front ends and the session.
cli_min=${rank[session]}
# Library headers (a prefix of the name) and the one layer that may use them.
libs=("curses.h:tui" "ncurses:tui" "sqlite3.h:store" "libproc2/:source"
	"libunwind:analysis" "libelf.h:analysis" "gelf.h:analysis" "elfutils/:analysis"
	"dwarf.h:analysis")
# The C library, for the model (no I/O headers: the model does none).
model_libc=" assert.h ctype.h errno.h float.h inttypes.h limits.h math.h stdarg.h \
stdbool.h stddef.h stdint.h stdio.h stdlib.h string.h time.h sys/types.h "

for d in src/*/; do
	d=${d%/}; l=${d#src/}
	for c in "$d"/*.c; do
		h=${c##*/}; h=${h%.c}.h
		if [ -e "$c" ] && [ -z "${layer[$h]:-}" ]; then
			layer[$h]=$l
		fi
	done
done

bad=0
fail() { echo "check-layers: $1" >&2; bad=1; }

# check FILE LAYER INCLUDE: one include ("memtop/x.h", "x.h" or <x.h>).
check() {
	local f=$1 l=$2 inc=$3 h hl lib
	case $inc in
	'"memtop/'*)
		h=${inc#\"memtop/}; h=${h%\"}
		hl=${layer[$h]:-}
		if [ -z "$hl" ]; then
			fail "$f: includes memtop/$h, which belongs to no layer (add it to ${0##*/})"
		elif [ "$hl" = cli ]; then
			((rank[$l] >= cli_min)) ||
				fail "$f: includes memtop/$h (the command line): $l must be given flags"
		elif ((rank[$hl] > rank[$l])); then
			fail "$f: includes memtop/$h ($hl): $l may not include $hl"
		fi ;;
	'"'*)
		h=${inc#\"}; h=${h%\"}
		[ "$l" != main ] && [[ $h != */* ]] && [ -e "${f%/*}/$h" ] ||
			fail "$f: includes \"$h\", not a header of its own folder" ;;
	'<'*)
		h=${inc#<}; h=${h%>}
		if [ "$l" = model ]; then
			[[ $model_libc == *" $h "* ]] ||
				fail "$f: includes <$h>: the model includes only the C library"
		fi
		for lib in "${libs[@]}"; do
			if [[ $h == "${lib%%:*}"* ]] && [ "$l" != "${lib#*:}" ]; then
				fail "$f: includes <$h>: only ${lib#*:} may"
			fi
		done ;;
	esac
}

# The layer of file $1 into $fl, "" when it is in no layer.
layer_of() {
	fl=
	case $1 in
	src/main.c) fl=main ;;
	src/*/*)
		fl=${1#src/}; fl=${fl%%/*}
		if [ -z "${rank[$fl]:-}" ]; then
			fl=
		fi ;;
	include/memtop/*)
		fl=${layer[${1##*/}]:-}
		if [ "$fl" = cli ]; then
			fl=model # options.h: a plain struct
		fi ;;
	esac
}

# Every include of every file, read in one pass as "FILE:INCLUDE".
declare -A file_layer
while IFS= read -r line; do
	f=${line%%:*}
	if [ -z "${file_layer[$f]+set}" ]; then
		layer_of "$f"
		file_layer[$f]=$fl
		[ -n "$fl" ] || fail "$f: in no layer (add its folder or header to ${0##*/})"
	fi
	if [ -n "${file_layer[$f]}" ]; then
		check "$f" "${file_layer[$f]}" "${line#*:}"
	fi
done < <(grep -HE '^[[:space:]]*#[[:space:]]*include' src/main.c src/*/*.c src/*/*.h \
	 include/memtop/*.h |
	 sed -n 's/^\([^:]*\):[[:space:]]*#[[:space:]]*include[[:space:]]*\([<"][^>"]*[>"]\).*/\1:\2/p')
# A header that includes nothing is still in a layer.
for f in include/memtop/*.h src/*/*.c src/*/*.h; do
	if [ -z "${file_layer[$f]+set}" ]; then
		layer_of "$f"
		[ -n "$fl" ] || fail "$f: in no layer (add its folder or header to ${0##*/})"
	fi
done
# Tests and benchmarks use public headers (memtop/...) and the test-support
# headers of tests/support/, never a path into src/.
while IFS= read -r f; do
	fail "$f: includes a header by a path into src/ (use tests/support/)"
done < <(grep -lE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"[^"]*src/' \
	 tests/*.h tests/*/*.c tests/*/*.h bench/*.c bench/*.h 2>/dev/null)
exit $bad
