# Shared helpers for bench/*.sh: timing, medians, ratios, a local registry,
# and the namespace wrapper crun needs on hybrid cgroup hosts (PEERS.md).
# Sourced, not run.

bench_tmp=$(mktemp -d /var/tmp/skiff-bench-XXXXXX)
bench_pids=()
bench_cleanup() {
  for pid in "${bench_pids[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  rm -rf "$bench_tmp"
}
trap bench_cleanup EXIT

# now_ms: monotonic milliseconds with a fraction.
now_ms() { python3 -c 'import time; print(f"{time.monotonic()*1000:.3f}")'; }

# time_ms CMD...: runs CMD (output discarded) and prints its wall time in ms.
time_ms() {
  local start end
  start=$(date +%s%N)
  "$@" >/dev/null 2>&1
  end=$(date +%s%N)
  awk -v s="$start" -v e="$end" 'BEGIN { printf "%.2f\n", (e - s) / 1e6 }'
}

# median < numbers (one per line)
median() { sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else printf "%.3f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

# ratio A B: A ÷ B with two decimals.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "n/a"; else printf "%.2f\n", a / b }'; }

# free_port: an unused TCP port on 127.0.0.1.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# registry_start: a docker-registry on 127.0.0.1; sets REGISTRY=127.0.0.1:PORT.
registry_start() {
  local port dir
  port=$(free_port)
  dir="$bench_tmp/registry"
  mkdir -p "$dir/data"
  cat >"$dir/config.yml" <<YML
version: 0.1
storage:
  filesystem:
    rootdirectory: $dir/data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
log:
  level: error
YML
  docker-registry serve "$dir/config.yml" >"$dir/log" 2>&1 &
  bench_pids+=($!)
  REGISTRY="127.0.0.1:$port"
  for _ in $(seq 100); do curl -fs "http://$REGISTRY/v2/" >/dev/null && return 0; sleep 0.05; done
  echo "registry did not start: $(cat "$dir/log")" >&2
  return 1
}

# without_unified CMD...: runs CMD in a private mount namespace with the
# cgroup v2 'unified' mount hidden (crun 1.8 refuses hybrid layouts).
without_unified() {
  unshare -m --propagation private sh -c 'umount /sys/fs/cgroup/unified 2>/dev/null; exec "$@"' sh "$@"
}

# report NAME SKIFF_MS PEER_NAME PEER_MS: one line of the comparison table.
report() {
  printf "%-42s skiff %9.2f ms   %-14s %9.2f ms   ratio %s\n" "$1" "$2" "$3" "$4" "$(ratio "$2" "$4")"
}
