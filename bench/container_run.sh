#!/usr/bin/env bash
# Container start-up cost, side by side and interleaved (issue 4):
#   skiff run --rm IMAGE /bin/true        the whole CLI path
#   crun run / runc run                   an OCI bundle of the same root filesystem
#   podman run --rm --network=none        the same image, from the same registry
# The image is busybox-static; every tool gets identical bytes (podman
# imports and pushes it to a docker-registry on 127.0.0.1, skiff pulls it,
# crun and runc use its unpacked tree). Ratios are skiff ÷ peer; the targets
# are skiff within 1.5x of crun and 10x faster than podman.
# crun runs inside without_unified (PEERS.md); skiff is timed both ways.
# Usage: bash bench/container_run.sh [RUNS]   (SKIFF=path/to/skiff; needs root)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
SKIFF=${SKIFF:-$PWD/build/src/cli/skiff}
runs=${1:-50}
for tool in crun runc podman docker-registry /bin/busybox; do
  command -v "$tool" >/dev/null || { echo "bench container_run: $tool is missing (scripts/deps --bench)" >&2; exit 1; }
done

export SKIFF_ROOT="$bench_tmp/store"
export SKIFF_CONFIG=/nonexistent
export CONTAINERS_STORAGE_CONF="$bench_tmp/storage.conf"
cat >"$CONTAINERS_STORAGE_CONF" <<CONF
[storage]
driver = "overlay"
graphroot = "$bench_tmp/containers/storage"
runroot = "$bench_tmp/containers/run"
CONF

# The root filesystem: busybox-static and its applets.
bundle="$bench_tmp/bundle"
rootfs="$bundle/rootfs"
mkdir -p "$rootfs"/{bin,etc,tmp,root,proc,sys,dev}
cp /bin/busybox "$rootfs/bin/busybox"
for applet in $(/bin/busybox --list); do [[ $applet == busybox ]] || ln -sf busybox "$rootfs/bin/$applet"; done
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$rootfs/etc/passwd"
printf 'root:x:0:\n' >"$rootfs/etc/group"
tar -C "$rootfs" -cf "$bench_tmp/rootfs.tar" .

registry_start
image="$REGISTRY/bench-run:1"
podman import -q --change 'ENV PATH=/bin' "$bench_tmp/rootfs.tar" "$image" >/dev/null
podman push -q --tls-verify=false "$image" >/dev/null
"$SKIFF" --insecure-registry "$REGISTRY" pull -q "$image" >/dev/null 2>&1 || "$SKIFF" pull -q "$image" >/dev/null

# The bundle: runc's default spec (no terminal, read-only root), /bin/true.
(cd "$bundle" && runc spec)
python3 - "$bundle/config.json" <<'PY'
import json, sys
p = sys.argv[1]
c = json.load(open(p))
c["process"]["terminal"] = False
c["process"]["args"] = ["/bin/true"]
json.dump(c, open(p, "w"), indent=2)
PY

n=0
skiff_run() { "$SKIFF" run --rm "$image" /bin/true; }
skiff_run_nu() { without_unified "$SKIFF" run --rm "$image" /bin/true; }
crun_run() { n=$((n + 1)); without_unified crun run --bundle "$bundle" "bench-crun-$n"; }
runc_run() { n=$((n + 1)); runc run --bundle "$bundle" "bench-runc-$n"; }
podman_run() {
  podman run --rm --runtime runc --network=none --ulimit nofile=20000:20000 --ulimit nproc=32768:32768 "$image" /bin/true
}

contenders=(skiff_run skiff_run_nu crun_run runc_run podman_run)
for c in "${contenders[@]}"; do
  "$c" >"$bench_tmp/check.log" 2>&1 || { echo "bench container_run: $c failed:" >&2; cat "$bench_tmp/check.log" >&2; exit 1; }
done

declare -A times
for i in $(seq "$runs"); do
  # Rotate which goes first: the host is shared and its load drifts.
  for j in "${!contenders[@]}"; do
    c=${contenders[$(((i + j) % ${#contenders[@]}))]}
    times[$c]+="$(time_ms "$c") "
  done
done
median_of() { tr ' ' '\n' <<<"${times[$1]}" | grep . | median; }
echo "busybox /bin/true, $runs runs each, interleaved (medians); load: $(cut -d' ' -f1-3 /proc/loadavg)"
report "run --rm /bin/true" "$(median_of skiff_run)" "crun run" "$(median_of crun_run)"
report "run --rm /bin/true (without_unified)" "$(median_of skiff_run_nu)" "crun run" "$(median_of crun_run)"
report "run --rm /bin/true" "$(median_of skiff_run)" "runc run" "$(median_of runc_run)"
report "run --rm /bin/true" "$(median_of skiff_run)" "podman run --rm" "$(median_of podman_run)"
