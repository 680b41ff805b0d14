#!/bin/sh
# screenshots.sh - PNGs of each view of the TUI on the demo workload, from a
# real run: memtop runs in tmux, an xterm on a virtual X display attaches to
# it, tmux send-keys switches views and ImageMagick's import grabs the
# screen.
#
#   scripts/screenshots.sh [BUILD_DIR] [OUT_DIR]
#
# BUILD_DIR holds memtop and memtop-demo (default: build), OUT_DIR gets the
# PNGs (default: screenshots).  Needs: apt-get install xvfb xterm imagemagick
# tmux fonts-dejavu-core.
set -eu

here=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$here/build}" && pwd)
out=${2:-$here/screenshots}
mkdir -p "$out"
out=$(cd "$out" && pwd)

for tool in Xvfb xterm import convert tmux; do
	command -v "$tool" >/dev/null || {
		echo "screenshots.sh: $tool is missing (apt-get install xvfb xterm imagemagick tmux)" >&2
		exit 1
	}
done

display=:$((90 + $$ % 100))
sock=memtop-shots-$$
work=$(mktemp -d)
xvfb= demo= xterm_pid=
cleanup() {
	tmux -L "$sock" kill-server 2>/dev/null || true
	[ -n "$xterm_pid" ] && kill "$xterm_pid" 2>/dev/null || true
	[ -n "$demo" ] && kill "$demo" 2>/dev/null || true
	[ -n "$xvfb" ] && kill "$xvfb" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT INT TERM

Xvfb "$display" -screen 0 1600x1000x24 -nolisten tcp >/dev/null 2>&1 &
xvfb=$!
export LANG=C.UTF-8
unset LC_ALL NO_COLOR

# The demo: a mapped-file leak, a journal whose windows come and go, and
# threads; it runs a while first so that growth and history show.
"$build/memtop-demo" --rate 10 --threads --dir "$work" --quiet &
demo=$!
sleep 1

# memtop on the demo (recording it), then (after q) the process picker,
# then (after q) the replay of the recording.
tmux -L "$sock" -f /dev/null new-session -d -s shots -x 100 -y 30 \
	"'$build/memtop' -p $demo -d 1 -w '$work/demo.mtrec'; '$build/memtop';
	 '$build/memtop' -r '$work/demo.mtrec'"
tmux -L "$sock" set-option -g status off
DISPLAY=$display xterm -u8 -geometry 100x30+0+0 -fa 'DejaVu Sans Mono' -fs 11 \
	-bg '#1c1c1c' -fg '#d0d0d0' -bc -b 8 -xrm 'XTerm*cursorColor: #1c1c1c' \
	-e tmux -L "$sock" attach -t shots &
xterm_pid=$!
sleep 20

keys() {
	tmux -L "$sock" send-keys -t shots "$@"
}

shot() {
	sleep 2.5 # a refresh or two after the keys
	import -display "$display" -window root "$work/raw.png"
	# The root window is black; the terminal is not: keep the terminal.
	convert "$work/raw.png" -fuzz 0 -trim +repage "$out/$1.png"
	echo "$out/$1.png"
}

keys 1; shot summary
keys 2; keys F6; keys F6; keys F6; keys F6; keys F6; keys F6; keys Home; shot regions
keys '<'; keys '<'; keys '<'; keys '<'; keys '<'; keys '<'
keys 3; shot files
keys 4; shot free
keys 5; shot events
keys 6; shot threads
keys 2; keys / ; keys -l messages.dat; keys Enter; keys Enter; shot detail
# The drill-down: the window's holder, its holder, the registry's vector,
# which g_registry holds.  Keys typed during a scan wait for it.
keys s; sleep 1; keys Enter; sleep 1; keys Enter; sleep 1; keys Enter; shot refs
keys Escape; keys Escape; keys Escape; keys Escape
keys Escape; keys F1; shot help
keys q; keys q
sleep 2; keys '\'; keys -l memtop; keys Enter; shot picker
keys q
# The replay: the Files view a few samples before the end, and the
# recorded scan of the window scanned live.
sleep 2; keys 3; keys End; keys T; keys T; shot replay
keys q
