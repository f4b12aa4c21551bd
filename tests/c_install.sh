#!/usr/bin/env bash
# The C library as a C user gets it (docs/platforms.md#the-c-library): `make install` into a temporary
# PREFIX, the soname checked with readelf, examples/c/app.c built with
# `cc app.c $(pkg-config --cflags --libs lkr_crypt)` against the installed copy and run,
# `make uninstall`, and nothing but empty directories left. Then the same with DESTDIR (a
# staged install for a package: files under DESTDIR, paths in lkr_crypt.pc without it).
#
# Uses $CARGO_TARGET_DIR when set; builds the release library when it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
command -v pkg-config >/dev/null || { echo "pkg-config is missing (apt-get install pkgconf)"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
make_() { make --no-print-directory "$@"; }

prefix=$tmp/prefix
make_ install PREFIX="$prefix"
echo "-- installed files (make install PREFIX=$prefix):"
listing=$(cd "$prefix" && find . ! -type d | sort | while read -r f; do
  if [ -L "$f" ]; then echo "${f#./} -> $(readlink "$f")"; else echo "${f#./}"; fi
done)
echo "$listing"
major=$(sed -n 's/^const SONAME: &str = "liblkr_crypt\.so\.\([0-9]*\)";/\1/p' build.rs)
expected="include/lkr_crypt.h
lib/liblkr_crypt.so -> liblkr_crypt.so.$major
lib/liblkr_crypt.so.$major -> $(cd "$prefix/lib" && ls liblkr_crypt.so.$major.*.*)
lib/$(cd "$prefix/lib" && ls liblkr_crypt.so.$major.*.*)
lib/pkgconfig/lkr_crypt.pc"
[ "$listing" = "$(sort <<<"$expected")" ] || { echo "unexpected file list; expected:"; sort <<<"$expected"; exit 1; }
soname=$(readelf -d "$prefix/lib/liblkr_crypt.so" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
[ "$soname" = "liblkr_crypt.so.$major" ] || { echo "soname is '$soname', not liblkr_crypt.so.$major"; exit 1; }
echo "-- soname: $soname"

export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
flags=$(pkg-config --cflags --libs lkr_crypt)
echo "-- cc app.c $flags (pkg-config lkr_crypt $(pkg-config --modversion lkr_crypt))"
# shellcheck disable=SC2086 # pkg-config's flags are words
cc -std=c99 -Wall -Wextra -Werror examples/c/app.c $flags -o "$tmp/app"
needed=$(readelf -d "$tmp/app" | sed -n 's/.*Shared library: \[\(liblkr_crypt[^]]*\)\]/\1/p')
[ "$needed" = "$soname" ] || { echo "the program needs '$needed', not $soname"; exit 1; }
LD_LIBRARY_PATH=$prefix/lib "$tmp/app"

make_ uninstall PREFIX="$prefix"
left=$(find "$prefix" ! -type d)
[ -z "$left" ] || { echo "make uninstall left: $left"; exit 1; }
echo "-- make uninstall: no file left"

make_ install DESTDIR="$tmp/stage" PREFIX=/usr
grep -qx 'prefix=/usr' "$tmp/stage/usr/lib/pkgconfig/lkr_crypt.pc" || { echo "DESTDIR leaked into lkr_crypt.pc"; exit 1; }
[ "$(find "$tmp/stage" ! -type d | wc -l)" = 5 ] || { echo "make install DESTDIR=: not 5 files"; exit 1; }
make_ uninstall DESTDIR="$tmp/stage" PREFIX=/usr
[ -z "$(find "$tmp/stage" ! -type d)" ] || { echo "make uninstall DESTDIR= left files"; exit 1; }
echo "-- make install/uninstall DESTDIR=$tmp/stage PREFIX=/usr: 5 files under DESTDIR, none left"
