#!/usr/bin/env bash
# Unpack Debian unstable's python3.X (binary packages, with the C library they need) into a
# prefix in the interpreter cache and print the path of its interpreter.
# Usage: .ci/debian-python.sh 3.14 [CACHE]   (CACHE: ${INTERLACE_CI_CACHE:-$HOME/.cache/interlace-ci})
# Unstable's packages need a newer C library than this machine's, so they run with their own
# (patchelf sets the loader and the library path).  Reuses the prefix when it is complete.
# The package host is read from /etc/apt/sources.list.d/debian.sources, never written here.
set -euo pipefail
version="$1"
cache="${2:-${INTERLACE_CI_CACHE:-$HOME/.cache/interlace-ci}}"
prefix="$cache/python$version"
python="$prefix/usr/bin/python$version"
if [ -f "$prefix/.complete" ] && [ -x "$python" ]; then
    echo "$python"
    exit 0
fi
mkdir -p "$cache"
exec 9>"$cache/.lock-python$version"
flock 9                                   # two CI runs on one machine share the cache
if [ -f "$prefix/.complete" ] && [ -x "$python" ]; then
    echo "$python"
    exit 0
fi
command -v patchelf >/dev/null || apt-get -o DPkg::Lock::Timeout=900 install -y -qq patchelf >&2
uri="$(awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i !~ /security/) { print $i; exit } }' \
    /etc/apt/sources.list.d/debian.sources)"
if [ -z "$uri" ]; then
    echo "no Debian URI in /etc/apt/sources.list.d/debian.sources" >&2
    exit 1
fi
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# a private apt: its own configuration, lists, cache and an empty dpkg status, so that every
# dependency is downloaded and nothing of the host's apt state changes
mkdir -p "$work/etc/apt/sources.list.d" "$work/etc/apt/preferences.d" "$work/etc/apt/trusted.gpg.d" \
    "$work/state/lists/partial" "$work/cache/archives/partial"
: > "$work/state/status"
echo "deb [signed-by=$keyring] $uri sid main" > "$work/etc/apt/sources.list"
apt_private=(-o "Dir::Etc=$work/etc/apt" -o "Dir::Etc::sourcelist=$work/etc/apt/sources.list"
    -o "Dir::Etc::sourceparts=$work/etc/apt/sources.list.d" -o "Dir::State=$work/state"
    -o "Dir::State::status=$work/state/status" -o "Dir::Cache=$work/cache"
    -o "APT::Architecture=amd64" -o "APT::Architectures=amd64" -o "Debug::NoLocking=1"
    -o "APT::Sandbox::User=root" -o "Acquire::Retries=3")
apt-get "${apt_private[@]}" update -qq >&2
apt-get "${apt_private[@]}" install -y -qq --download-only --no-install-recommends \
    "python$version" "python$version-dev" "python$version-venv" >&2
rm -rf "$prefix.partial"
mkdir -p "$prefix.partial"
for deb in "$work"/cache/archives/*.deb; do
    dpkg -x "$deb" "$prefix.partial"
done
patchelf --set-interpreter "$prefix/usr/lib64/ld-linux-x86-64.so.2" --force-rpath \
    --set-rpath "$prefix/usr/lib/x86_64-linux-gnu:$prefix/lib/x86_64-linux-gnu" \
    "$prefix.partial/usr/bin/python$version"
rm -rf "$prefix"
mv "$prefix.partial" "$prefix"
touch "$prefix/.complete"
"$python" -c "import sys; print(sys.version)" >&2
echo "$python"
