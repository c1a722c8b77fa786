#!/usr/bin/env bash
# Build a free-threaded CPython 3.13 (--disable-gil) from Debian's python3.13 source package
# and print the path of its interpreter.  Usage: .ci/free-threaded.sh PREFIX
# Reuses PREFIX when it already holds a build.  About 10 minutes on 2 cores.
set -euo pipefail
prefix="$1"
python="$prefix/bin/python3.13t"
if [ -x "$python" ]; then
    echo "$python"
    exit 0
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# the source of Debian's python3.13 (trixie) is the one at hand: no other downloads
sources=/etc/apt/sources.list.d/interlace-ci-trixie-src.sources
if ! grep -rqs "deb-src" /etc/apt/sources.list.d/ /etc/apt/sources.list 2>/dev/null \
        || ! grep -rqs "trixie" /etc/apt/sources.list.d/ 2>/dev/null; then
    printf 'Types: deb-src\nURIs: http://deb.debian.org/debian\nSuites: trixie\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' > "$sources"
fi
apt-get update -qq >&2
command -v dpkg-source >/dev/null || apt-get install -y -qq dpkg-dev >&2
(cd "$work" && apt-get source -qq python3.13 >&2)
src="$(find "$work" -maxdepth 1 -type d -name 'python3.13-*' | head -n 1)"
if [ -z "$src" ]; then
    echo "apt-get source python3.13 gave no source tree" >&2
    exit 1
fi
(cd "$src" && ./configure -q --disable-gil --without-ensurepip --prefix="$prefix" >&2 && make -s -j2 >&2 \
    && make -s install >&2) 2>&1 | grep -vE "^(ar|gcc|Compiling|Listing)" >&2 || true
if [ ! -x "$python" ]; then
    echo "the free-threaded build did not produce $python" >&2
    exit 1
fi
echo "$python"
