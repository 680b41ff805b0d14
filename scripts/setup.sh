#!/usr/bin/env bash
# Install what is missing (Debian 12 packages), then configure and build.
#   scripts/setup.sh [--sanitize|--tsan] [--long]   build into build/
#   (build-asan/ with ASan+UBSan, build-tsan/ with ThreadSanitizer); --long
#   configures the thorough (nightly) test runs
set -euo pipefail
cd "$(dirname "$0")/.."

# Build tools, the libraries memtop links (README.md says what each is for),
# and what the tests drive memtop with (tmux, python3, util-linux's setpriv).
PACKAGES=(build-essential cmake pkg-config
	libncurses-dev libproc2-dev libunwind-dev libdw-dev libelf-dev
	libsqlite3-dev libcmocka-dev
	tmux python3 procps util-linux gdb)

missing=()
for p in "${PACKAGES[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing+=("$p")
done
if ((${#missing[@]})); then
	echo "setup: installing ${missing[*]}" >&2
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
		"${missing[@]}" >/dev/null
fi

build=build
flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DMEMTOP_LONG_TESTS=OFF)
for arg in "$@"; do
	case $arg in
	--sanitize) build=build-asan; flags+=(-DMEMTOP_SANITIZE=ON) ;;
	--tsan) build=build-tsan; flags+=(-DMEMTOP_TSAN=ON) ;;
	--long) flags+=(-DMEMTOP_LONG_TESTS=ON) ;;
	*) echo "setup: unknown option $arg" >&2; exit 2 ;;
	esac
done
[ -n "${CI:-}" ] && flags+=(-DMEMTOP_WERROR=ON)
cmake -S . -B "$build" "${flags[@]}" >/dev/null
cmake --build "$build" -j"$(nproc)"
