#!/usr/bin/env bash
# skiff pull against podman pull and skopeo copy (issue 2): the same Debian
# bookworm minbase image (mmdebstrap, cached under /var/cache/skiff-bench),
# pushed to a docker-registry on 127.0.0.1, pulled into a fresh store each
# run, interleaved, medians and ratios (skiff ÷ peer).
#   skiff pull                      download, verify, unpack into its store
#   podman pull                     the same into a fresh containers-storage (overlay)
#   skopeo copy → containers-storage  the same work as podman pull, without podman
#   skopeo copy → oci: layout       download and write blobs only (no unpack)
# Usage: bash bench/pull.sh [RUNS]   (SKIFF=path/to/skiff; needs root)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
SKIFF=${SKIFF:-$PWD/build/src/cli/skiff}
runs=${1:-5}
for tool in podman skopeo docker-registry mmdebstrap; do
  command -v "$tool" >/dev/null || { echo "bench pull: $tool is missing (scripts/deps --bench)" >&2; exit 1; }
done
export SKIFF_CONFIG=/nonexistent

cache=/var/cache/skiff-bench
minbase="$cache/minbase.tar"
if [[ ! -f $minbase ]]; then
  mkdir -p "$cache"
  mmdebstrap --quiet --variant=minbase bookworm "$cache/minbase.part.tar" >&2  # the .tar suffix picks the format
  mv "$cache/minbase.part.tar" "$minbase"
fi

# storage_conf DIR: a containers-storage of its own under DIR.
storage_conf() {
  mkdir -p "$1"
  cat >"$1/storage.conf" <<CONF
[storage]
driver = "overlay"
graphroot = "$1/storage"
runroot = "$1/run"
CONF
  echo "$1/storage.conf"
}
registry_start
image="$REGISTRY/bench-minbase:1"
CONTAINERS_STORAGE_CONF=$(storage_conf "$bench_tmp/seed") podman import -q "$minbase" "$image" >/dev/null
CONTAINERS_STORAGE_CONF="$bench_tmp/seed/storage.conf" podman push -q --tls-verify=false "$image" >/dev/null
blob_mb=$(du -sm "$bench_tmp/registry/data" | cut -f1)

# Each contender gets a fresh store in $dest, made (and removed) outside the timing.
skiff_pull() { SKIFF_ROOT="$dest" "$SKIFF" pull -q "$image"; }
podman_pull() { CONTAINERS_STORAGE_CONF="$dest/storage.conf" podman pull -q --tls-verify=false "$image"; }
skopeo_storage() {
  CONTAINERS_STORAGE_CONF="$dest/storage.conf" skopeo copy -q --src-tls-verify=false "docker://$image" "containers-storage:$image"
}
skopeo_oci() { skopeo copy -q --src-tls-verify=false "docker://$image" "oci:$dest/layout:bench"; }
fresh() {
  dest="$bench_tmp/dest"
  rm -rf "$dest"
  storage_conf "$dest" >/dev/null
}
clean() {
  # podman's overlay storage may leave mounts behind; unmount before removing.
  grep -o " $dest[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
  rm -rf "$dest"
}

contenders=(skiff_pull podman_pull skopeo_storage skopeo_oci)
for c in "${contenders[@]}"; do
  fresh
  "$c" >"$bench_tmp/check.log" 2>&1 || { echo "bench pull: $c failed:" >&2; cat "$bench_tmp/check.log" >&2; exit 1; }
  clean
done

declare -A times
for i in $(seq "$runs"); do
  for j in "${!contenders[@]}"; do
    c=${contenders[$(((i + j) % ${#contenders[@]}))]}
    fresh
    sync
    times[$c]+="$(time_ms "$c") "
    clean
  done
done
median_of() { tr ' ' '\n' <<<"${times[$1]}" | grep . | median; }
echo "Debian bookworm minbase ($(du -m "$minbase" | cut -f1) MB tar, ${blob_mb} MB in the registry), $runs fresh pulls each, interleaved (medians); load: $(cut -d' ' -f1-3 /proc/loadavg)"
for c in "${contenders[@]}"; do printf '  %-16s %s\n' "$c:" "${times[$c]}"; done
report "pull (fresh store)" "$(median_of skiff_pull)" "podman pull" "$(median_of podman_pull)"
report "pull (fresh store)" "$(median_of skiff_pull)" "skopeo c-storage" "$(median_of skopeo_storage)"
report "pull (fresh store)" "$(median_of skiff_pull)" "skopeo oci:" "$(median_of skopeo_oci)"
