#!/usr/bin/env bash
# VM isolation start-up cost: `skiff vm run /bin/true` against the floor, a
# bare qemu boot of the very same VM (machine, kernel, command line,
# initramfs, devices) whose init only runs /bin/true and resets. The ratio
# is what skiff's agent, channel, root image and overlay add on top.
# Usage: bash bench/vm.sh [RUNS]   (SKIFF=path/to/skiff; needs root)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
SKIFF=${SKIFF:-$PWD/build/src/cli/skiff}
runs=${1:-7}

export SKIFF_ROOT="$bench_tmp/store"
rootfs="$bench_tmp/rootfs"
mkdir -p "$rootfs/bin" "$rootfs/etc" "$rootfs/tmp"
cp /bin/busybox "$rootfs/bin/busybox"
ln -s busybox "$rootfs/bin/true"
ln -s busybox "$rootfs/bin/sh"

# The floor's init: run /bin/true, then reset (reboot=t + -no-reboot end qemu).
cat >"$bench_tmp/floor-init.c" <<'C'
#include <sys/reboot.h>
#include <sys/wait.h>
#include <unistd.h>
int main(void) {
  pid_t pid = fork();
  if (pid == 0) {
    char* argv[] = {"/bin/true", 0};
    execv(argv[0], argv);
    _exit(127);
  }
  int status;
  waitpid(pid, &status, 0);
  reboot(RB_AUTOBOOT);
  return 0;
}
C
gcc -O2 -static -s -o "$bench_tmp/floor-init" "$bench_tmp/floor-init.c"

# One skiff run fills the caches (kernel, initramfs, root image) and prints
# the exact qemu command line it used.
"$SKIFF" --log-level debug vm run --key bench-rootfs --rootfs "$rootfs" true 2>"$bench_tmp/first.log" ||
  { cat "$bench_tmp/first.log" >&2; exit 1; }
qemu_line=$(sed -n 's/^skiff: debug: VM [^:]*: qemu pid [0-9]* at [0-9]* ms: //p' "$bench_tmp/first.log")
initramfs=$(sed -n 's/.* -initrd \([^ ]*\) .*/\1/p' <<<"$qemu_line")
image=$(ls "$SKIFF_ROOT"/vm/images/*.erofs)

# The floor's initramfs: skiff's own, with /init replaced by the floor's
# (the kernel unpacks concatenated cpio archives in order).
floor_dir="$bench_tmp/floor"
mkdir -p "$floor_dir/bin"
cp "$bench_tmp/floor-init" "$floor_dir/init"
cp /bin/busybox "$floor_dir/bin/busybox"
ln -s busybox "$floor_dir/bin/true"
(cd "$floor_dir" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) >"$bench_tmp/floor-overlay.cpio"
cat "$initramfs" "$bench_tmp/floor-overlay.cpio" >"$bench_tmp/floor.cpio"

# Same argv as skiff's, with the floor initramfs, the cached image, and null
# backends in place of the agent socket and the console file.
mapfile -t floor_args < <(python3 - "$qemu_line" "$bench_tmp/floor.cpio" "$image" <<'PY'
import sys, re
line, initrd, image = sys.argv[1:]
# The command line was printed space-joined; -append's value is the only one with spaces.
head, rest = line.split(" -append ", 1)
append, tail = re.split(r" (?=-drive )", rest, 1)
args = head.split(" ") + ["-append", append] + tail.split(" ")
out = []
i = 0
while i < len(args):
    a = args[i]
    if a == "-initrd": out += [a, initrd]; i += 2; continue
    if a == "-chardev": out += [a, "null,id=agent"]; i += 2; continue
    if a == "-serial": out += [a, "null"]; i += 2; continue
    if a.startswith("id=root,file="): a = re.sub(r"file=[^,]*", "file=" + image, a)
    out.append(a)
    i += 1
print("\n".join(out))
PY
)
floor_boot() { "${floor_args[@]}" </dev/null; }
skiff_run() { "$SKIFF" vm run --key bench-rootfs --rootfs "$rootfs" true; }

floor_boot >/dev/null 2>&1 || { echo "the floor VM failed: ${floor_args[*]}" >&2; exit 1; }

skiff_times=() floor_times=()
for i in $(seq "$runs"); do
  # Alternate which goes first: the host is shared and its load drifts.
  if ((i % 2)); then
    floor_times+=("$(time_ms floor_boot)")
    skiff_times+=("$(time_ms skiff_run)")
  else
    skiff_times+=("$(time_ms skiff_run)")
    floor_times+=("$(time_ms floor_boot)")
  fi
done
skiff_median=$(printf '%s\n' "${skiff_times[@]}" | median)
floor_median=$(printf '%s\n' "${floor_times[@]}" | median)
echo "accelerator: $("$SKIFF" vm info --format json | python3 -c 'import json,sys; print(json.load(sys.stdin)["Accelerator"])')"
echo "runs: $runs   skiff: ${skiff_times[*]}"
echo "            floor: ${floor_times[*]}"
report "vm run /bin/true (cached image)" "$skiff_median" "bare qemu boot" "$floor_median"
