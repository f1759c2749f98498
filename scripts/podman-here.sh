#!/bin/bash
# Debian's podman with a configuration and storage of this project's own, so the image can be built and
# run on a machine with no Docker daemon and no Docker Hub (as the container test does):
#   scripts/podman-here.sh build ...   scripts/podman-here.sh run ...   scripts/podman-here.sh images
# Why each setting (measured on the team's machines, root, hybrid cgroups, no systemd):
#   runtime runc      crun fails to create containers on hybrid cgroups
#   default_ulimits   podman's defaults ask for more than the hard limits, refused without CAP_SYS_RESOURCE
#   cgroupfs, file    no systemd to manage cgroups or hold the event journal
# Storage lives in $OCR_PODMAN_DIR (default ~/.cache/ocr-workbench/podman), so a second run reuses the
# base image and the build cache; the run state in /run/ocr-workbench-podman-* is gone after a reboot.
set -euo pipefail

dir=${OCR_PODMAN_DIR:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/ocr-workbench/podman}
run=/run/ocr-workbench-podman-$(printf %s "$dir" | cksum | cut -d' ' -f1)  # one run state per storage
if ! command -v podman >/dev/null; then
    echo "podman is missing: apt-get install podman runc (make test does)" >&2
    exit 127
fi
mkdir -p "$dir/storage" "$run"

nofile=$(ulimit -Hn)
nproc=$(ulimit -Hu)
if [ "$nproc" = unlimited ] || [ "$nproc" -gt 32768 ]; then nproc=32768; fi

conf="$dir/containers.conf"
storage="$dir/storage.conf"
new_conf="[containers]
default_ulimits = [\"nofile=$nofile:$nofile\", \"nproc=$nproc:$nproc\"]

[engine]
runtime = \"runc\"
cgroup_manager = \"cgroupfs\"
events_logger = \"file\"
tmp_dir = \"$run/tmp\"
"
new_storage="[storage]
driver = \"overlay\"
graphroot = \"$dir/storage\"
runroot = \"$run/runroot\"
"
# Rewritten only when different, so concurrent callers do not race on an unchanged file.
[ "$(cat "$conf" 2>/dev/null)" = "${new_conf%$'\n'}" ] || printf '%s' "$new_conf" >"$conf"
[ "$(cat "$storage" 2>/dev/null)" = "${new_storage%$'\n'}" ] || printf '%s' "$new_storage" >"$storage"

export CONTAINERS_CONF="$conf" CONTAINERS_STORAGE_CONF="$storage"
exec podman "$@"
