#!/usr/bin/env bash
# Layer unpack throughput (issue 3), side by side and interleaved, on two
# gzip layers: a Debian bookworm minbase root filesystem (mmdebstrap, cached
# under /var/cache/skiff-bench) and a synthetic layer of 100,000 small files.
# Each layer is put in an OCI layout on local disk, so no network is timed:
#   skiff snapshot unpack BLOB=DIFF_ID   gunzip + untar + diff_id check into a fresh store
#   umoci unpack                         the same into a runtime bundle (plus its mtree manifest)
#   podman pull oci:LAYOUT               blob copy into containers-storage, then the
#                                        overlay unpack (so it includes one extra copy)
# MB/s is uncompressed tar bytes ÷ wall time; files/s is tar entries ÷ wall time.
# Each run starts from an empty destination, made and removed outside the timing:
# by default a freshly made ext4 (journalled, mkfs defaults) on a loop device.
# Why not a directory on the host filesystem: on an ext4 without a journal
# (this machine's root) the kernel skips inodes freed in the last 60-360 s
# when it allocates new ones (fs/ext4/ialloc.c recently_deleted), rescanning
# them for every create; right after the previous run's 100,000 files are
# removed, that scan is ~90% of every tool's time (26 s instead of 2-3 s).
# UNPACK_FS=host measures on the host filesystem as before.
# Usage: bash bench/unpack.sh [RUNS]   (SKIFF=path/to/skiff; needs root)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
SKIFF=${SKIFF:-$PWD/build/src/cli/skiff}
runs=${1:-3}  # the 100,000-file layer takes ~30 s a run per tool
for tool in umoci podman mmdebstrap; do
  command -v "$tool" >/dev/null || { echo "bench unpack: $tool is missing (scripts/deps --bench)" >&2; exit 1; }
done
export SKIFF_CONFIG=/nonexistent

cache=/var/cache/skiff-bench
minbase="$cache/minbase.tar"
if [[ ! -f $minbase ]]; then
  mkdir -p "$cache"
  mmdebstrap --quiet --variant=minbase bookworm "$cache/minbase.part.tar" >&2  # the .tar suffix picks the format
  mv "$cache/minbase.part.tar" "$minbase"
fi
small="$cache/small-files.tar"
if [[ ! -f $small ]]; then
  python3 - "$small.tmp" <<'PY'
import io, sys, tarfile
# 100,000 files of 64-512 bytes in 100 directories.
with tarfile.open(sys.argv[1], "w", format=tarfile.PAX_FORMAT) as tar:
    for d in range(100):
        info = tarfile.TarInfo(f"data/d{d:03}")
        info.type, info.mode = tarfile.DIRTYPE, 0o755
        tar.addfile(info)
        for f in range(1000):
            body = (f"{d}:{f}\n" * 64)[: 64 + (d * 1000 + f) % 449].encode()
            info = tarfile.TarInfo(f"data/d{d:03}/f{f:04}")
            info.size, info.mode = len(body), 0o644
            tar.addfile(info, io.BytesIO(body))
PY
  mv "$small.tmp" "$small"
fi

# oci_layout TAR DIR: a one-layer OCI image layout (tag "bench") of TAR, gzipped.
# Prints "BLOB_PATH DIFF_ID".
oci_layout() {
  python3 - "$1" "$2" <<'PY'
import gzip, hashlib, json, os, sys
tar_path, layout = sys.argv[1:]
blobs = os.path.join(layout, "blobs", "sha256")
os.makedirs(blobs, exist_ok=True)
raw = open(tar_path, "rb").read()
diff_id = "sha256:" + hashlib.sha256(raw).hexdigest()
def put(data):
    digest = hashlib.sha256(data).hexdigest()
    open(os.path.join(blobs, digest), "wb").write(data)
    return {"digest": "sha256:" + digest, "size": len(data)}
layer = put(gzip.compress(raw, compresslevel=6, mtime=0))
config = put(json.dumps({"architecture": "amd64", "os": "linux", "config": {"Cmd": ["/bin/sh"]},
                         "rootfs": {"type": "layers", "diff_ids": [diff_id]}}).encode())
manifest = put(json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": dict(config, mediaType="application/vnd.oci.image.config.v1+json"),
    "layers": [dict(layer, mediaType="application/vnd.oci.image.layer.v1.tar+gzip")]}).encode())
index = {"schemaVersion": 2, "manifests": [dict(manifest, mediaType="application/vnd.oci.image.manifest.v1+json",
         annotations={"org.opencontainers.image.ref.name": "bench"})]}
json.dump(index, open(os.path.join(layout, "index.json"), "w"))
open(os.path.join(layout, "oci-layout"), "w").write('{"imageLayoutVersion":"1.0.0"}')
print(os.path.join(blobs, layer["digest"][7:]), diff_id)
PY
}

skiff_unpack() { SKIFF_ROOT="$dest/store" "$SKIFF" snapshot unpack "$blob=$diff_id"; }
umoci_unpack() { umoci unpack --image "$layout:bench" "$dest/bundle"; }
podman_pull() { CONTAINERS_STORAGE_CONF="$dest/storage.conf" podman pull -q "oci:$layout:bench"; }
unpack_fs=${UNPACK_FS:-fresh}
fresh() {
  dest="$bench_tmp/dest"
  rm -rf "$dest"
  mkdir -p "$dest"
  if [[ $unpack_fs == fresh ]]; then
    truncate -s 8G "$bench_tmp/dest.img"
    mkfs.ext4 -q -F "$bench_tmp/dest.img"
    mount -o loop "$bench_tmp/dest.img" "$dest"
  fi
  cat >"$dest/storage.conf" <<CONF
[storage]
driver = "overlay"
graphroot = "$dest/storage"
runroot = "$dest/run"
CONF
}
clean() {
  grep -o " $dest[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
  rm -rf "$dest" "$bench_tmp/dest.img"
}

# podman's oci: transport wants a lowercase path; mktemp's is mixed case.
layouts=/var/tmp/skiff-bench-layouts-$$
dest="$bench_tmp/dest"
trap 'clean; rm -rf "$layouts"; bench_cleanup' EXIT
contenders=(skiff_unpack umoci_unpack podman_pull)
echo "unpack of one gzip layer from a local OCI layout onto a $unpack_fs filesystem, $runs runs each, interleaved (medians); load: $(cut -d' ' -f1-3 /proc/loadavg)"
for name in minbase small-files; do
  tar="$cache/$name.tar"
  layout="$layouts/$name"
  read -r blob diff_id < <(oci_layout "$tar" "$layout")
  mb=$(awk -v b="$(stat -c %s "$tar")" 'BEGIN { printf "%.1f", b / 1048576 }')
  gz_mb=$(awk -v b="$(stat -c %s "$blob")" 'BEGIN { printf "%.1f", b / 1048576 }')
  entries=$(tar -tf "$tar" | wc -l)
  for c in "${contenders[@]}"; do
    fresh
    "$c" >"$bench_tmp/check.log" 2>&1 || { echo "bench unpack: $c failed:" >&2; cat "$bench_tmp/check.log" >&2; exit 1; }
    clean
  done
  declare -A times=()
  for i in $(seq "$runs"); do
    for j in "${!contenders[@]}"; do
      c=${contenders[$(((i + j) % ${#contenders[@]}))]}
      fresh
      sync
      times[$c]+="$(time_ms "$c") "
      clean
    done
  done
  echo "-- $name: $mb MB tar ($gz_mb MB gzip), $entries entries"
  for c in "${contenders[@]}"; do
    ms=$(tr ' ' '\n' <<<"${times[$c]}" | grep . | median)
    eval "med_$c=$ms"
    awk -v c="$c" -v ms="$ms" -v mb="$mb" -v n="$entries" -v all="${times[$c]}" \
      'BEGIN { printf "  %-14s %9.1f ms  %7.1f MB/s  %8.0f files/s   (%s)\n", c, ms, mb / (ms / 1000), n / (ms / 1000), all }'
  done
  report "$name unpack" "$med_skiff_unpack" "umoci unpack" "$med_umoci_unpack"
  report "$name unpack" "$med_skiff_unpack" "podman pull oci:" "$med_podman_pull"
done
