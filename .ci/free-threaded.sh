#!/usr/bin/env bash
# Build a free-threaded CPython 3.13 (--disable-gil) from Debian's python3.13 source package
# into the interpreter cache and print the path of its interpreter.
# Usage: .ci/free-threaded.sh [CACHE]   (CACHE: ${INTERLACE_CI_CACHE:-$HOME/.cache/interlace-ci})
# Reuses the build when it is complete: a machine pays the ~10 minutes (2 cores) once.
# The package host is read from /etc/apt/sources.list.d/debian.sources, never written here;
# the source comes through a private apt configuration, so the host's sources stay untouched.
set -euo pipefail
cache="${1:-${INTERLACE_CI_CACHE:-$HOME/.cache/interlace-ci}}"
prefix="$cache/python3.13t"
python="$prefix/bin/python3.13t"
if [ -f "$prefix/.complete" ] && [ -x "$python" ]; then
    echo "$python"
    exit 0
fi
mkdir -p "$cache"
exec 9>"$cache/.lock-python3.13t"
flock 9                                   # two CI runs on one machine share the cache
if [ -f "$prefix/.complete" ] && [ -x "$python" ]; then
    echo "$python"
    exit 0
fi
command -v dpkg-source >/dev/null || apt-get -o DPkg::Lock::Timeout=900 install -y -qq dpkg-dev >&2
uri="$(awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i !~ /security/) { print $i; exit } }' \
    /etc/apt/sources.list.d/debian.sources)"
if [ -z "$uri" ]; then
    echo "no Debian URI in /etc/apt/sources.list.d/debian.sources" >&2
    exit 1
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/etc/apt/sources.list.d" "$work/etc/apt/preferences.d" "$work/state/lists/partial" \
    "$work/cache/archives/partial" "$work/src"
: > "$work/state/status"
# trixie's python3.13 (3.13.5): the source at hand, no other downloads
echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri trixie main" \
    > "$work/etc/apt/sources.list"
apt_private=(-o "Dir::Etc=$work/etc/apt" -o "Dir::Etc::sourcelist=$work/etc/apt/sources.list"
    -o "Dir::Etc::sourceparts=$work/etc/apt/sources.list.d" -o "Dir::State=$work/state"
    -o "Dir::State::status=$work/state/status" -o "Dir::Cache=$work/cache"
    -o "Debug::NoLocking=1" -o "APT::Sandbox::User=root" -o "Acquire::Retries=3")
apt-get "${apt_private[@]}" update -qq >&2
(cd "$work/src" && apt-get "${apt_private[@]}" source -qq python3.13 >&2)
src="$(find "$work/src" -maxdepth 1 -type d -name 'python3.13-*' | head -n 1)"
if [ -z "$src" ]; then
    echo "apt-get source python3.13 gave no source tree" >&2
    exit 1
fi
rm -rf "$prefix"
# nice: the build shares the machine with the test suites
(cd "$src" && nice -n 10 ./configure -q --disable-gil --without-ensurepip --prefix="$prefix" >&2 \
    && nice -n 10 make -s -j2 >&2 && nice -n 10 make -s install >&2) 2>&1 \
    | grep -vE "^(ar|gcc|Compiling|Listing)" >&2 || true
if [ ! -x "$python" ]; then
    echo "the free-threaded build did not produce $python" >&2
    exit 1
fi
touch "$prefix/.complete"
echo "$python"
