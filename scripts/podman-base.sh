#!/bin/bash
# Make a local stand-in for the public base image python:3.11-slim-bookworm, offline from Docker Hub:
# Debian bookworm from the apt mirror this machine uses (debootstrap, minbase), Debian's Python 3.11
# and a virtualenv first on PATH, so `python` and `pip` behave as in the public image. Imported into
# scripts/podman-here.sh's storage; does nothing when the image is already there.
#   scripts/podman-base.sh            prints the image's name on its last line
#   docker build --build-arg BASE=<that name> ...   builds the Dockerfile on it
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
image=${OCR_BASE_IMAGE:-localhost/python-standin:3.11-slim-bookworm}
suite=bookworm
podman_here="$here/podman-here.sh"

if "$podman_here" image exists "$image"; then
    echo "$image"
    exit 0
fi
if ! command -v debootstrap >/dev/null; then
    echo "debootstrap is missing: apt-get install debootstrap (make test does)" >&2
    exit 127
fi
[ "$(id -u)" -eq 0 ] || { echo "making the base image needs root (debootstrap, rootful podman)" >&2; exit 1; }

# The mirror apt uses here: the first deb URI serving $suite in sources.list(.d), one-line or deb822.
mirror_in_use() {
    local files=() f
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] && files+=("$f")
    done
    [ ${#files[@]} -gt 0 ] || return 0
    awk -v suite="$suite" '
        FNR == 1 { types = uris = suites = "" }
        /^deb[ \t]/ { sub(/\[[^]]*\][ \t]*/, ""); if ($3 == suite) { print $2; exit } }
        /^Types:/ { types = $0 } /^URIs:/ { uris = $2 } /^Suites:/ { suites = $0 " " }
        uris != "" && types ~ /[ \t]deb([ \t]|$)/ && suites ~ ("[ \t]" suite "[ \t]") { print uris; exit }
        /^[ \t]*$/ { types = uris = suites = "" }
    ' "${files[@]}"
}
mirror=$(mirror_in_use)
mirror=${mirror:-http://deb.debian.org/debian}

dir=${OCR_PODMAN_DIR:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/ocr-workbench/podman}
root="$dir/rootfs.tmp"
trap 'rm -rf "$root"' EXIT
rm -rf "$root"
echo "debootstrap $suite from $mirror into $root" >&2
debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates "$suite" "$root" "$mirror" \
    >"$dir/debootstrap.log" 2>&1 \
    || { tail -20 "$dir/debootstrap.log" >&2; echo "debootstrap failed; its log: $dir/debootstrap.log" >&2; exit 1; }
chroot "$root" /usr/bin/python3 -m venv /opt/venv
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb
tar --numeric-owner -C "$root" -c . | "$podman_here" import --quiet \
    --change 'ENV PATH=/opt/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' --change 'CMD ["python3"]' - "$image" >/dev/null
echo "$image"
