#!/usr/bin/env bash
# skiff build against podman build and buildah bud --layers: the same
# two-stage Dockerfile (WORKDIR, COPY of a context, RUN, COPY --from, ENV,
# CMD) on the same busybox base, cold (--no-cache) and fully cached,
# interleaved, medians and ratios (skiff ÷ peer). The base comes from a
# docker-registry on 127.0.0.1 so every tool starts from identical bytes.
# Usage: bash bench/build.sh [RUNS]   (SKIFF=path/to/skiff; needs root,
# podman, buildah, docker-registry, busybox-static)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
SKIFF=${SKIFF:-$PWD/build/src/cli/skiff}
runs=${1:-7}
for tool in podman buildah docker-registry /bin/busybox; do
  command -v "$tool" >/dev/null || { echo "bench build: $tool is missing (scripts/deps --bench)" >&2; exit 1; }
done

export SKIFF_ROOT="$bench_tmp/store"
export SKIFF_CONFIG=/nonexistent
# podman and buildah in a storage of their own, so the bench neither sees
# nor disturbs anyone else's images and cache.
export CONTAINERS_STORAGE_CONF="$bench_tmp/storage.conf"
cat >"$CONTAINERS_STORAGE_CONF" <<CONF
[storage]
driver = "overlay"
graphroot = "$bench_tmp/containers/storage"
runroot = "$bench_tmp/containers/run"
CONF
peer_flags=(--runtime runc)  # crun refuses this host's hybrid cgroups (PEERS.md)

# The base image: busybox with /etc/passwd, imported into podman, pushed to
# the registry, pulled by skiff.
rootfs="$bench_tmp/rootfs"
mkdir -p "$rootfs"/{bin,etc,tmp,root}
cp /bin/busybox "$rootfs/bin/busybox"
for applet in $(/bin/busybox --list); do [[ $applet == busybox ]] || ln -sf busybox "$rootfs/bin/$applet"; done
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$rootfs/etc/passwd"
printf 'root:x:0:\n' >"$rootfs/etc/group"
tar -C "$rootfs" -cf "$bench_tmp/rootfs.tar" .
registry_start
base="$REGISTRY/bench-base:1"
podman import -q --change 'ENV PATH=/bin' "$bench_tmp/rootfs.tar" "$base" >/dev/null
podman push -q --tls-verify=false "$base" >/dev/null
"$SKIFF" pull -q "$base" >/dev/null

# The context: a Dockerfile and a few source files.
ctx="$bench_tmp/context"
mkdir -p "$ctx/src"
for i in $(seq 1 20); do head -c 4096 /dev/urandom | base64 >"$ctx/src/part$i.txt"; done
cat >"$ctx/Dockerfile" <<'DOCKERFILE'
ARG BASE
FROM $BASE AS build
WORKDIR /src
COPY src/ ./
RUN cat *.txt > /combined && sha256sum /combined > /combined.sha
FROM $BASE
COPY --from=build /combined /combined.sha /app/
ENV MODE=bench
CMD ["cat", "/app/combined"]
DOCKERFILE

skiff_build() { "$SKIFF" build -q --build-arg BASE="$base" -t bench-skiff "$@" "$ctx"; }
podman_build() { podman build -q "${peer_flags[@]}" --build-arg BASE="$base" -t bench-podman "$@" "$ctx"; }
buildah_build() { buildah bud -q --layers "${peer_flags[@]}" --build-arg BASE="$base" -t bench-buildah "$@" "$ctx"; }

# Each must work (and fill its cache) before it is timed.
skiff_build >/dev/null
podman_build >/dev/null
buildah_build >/dev/null

declare -A samples
for _ in $(seq "$runs"); do
  for tool in skiff podman buildah; do
    samples[$tool-cold]+="$(time_ms "${tool}_build" --no-cache) "
    samples[$tool-cached]+="$(time_ms "${tool}_build") "
  done
done
med() { tr ' ' '\n' <<<"${samples[$1]}" | sed '/^$/d' | median; }

echo "two-stage Dockerfile, busybox base, $runs runs each, interleaved (medians)"
for kind in cold cached; do
  for peer in podman buildah; do
    label="build $kind"
    [[ $peer == buildah ]] && label="bud --layers $kind"
    report "$label" "$(med skiff-$kind)" "$peer" "$(med $peer-$kind)"
  done
done
