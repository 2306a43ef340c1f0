#!/usr/bin/env bash
# VM isolation start-up cost, side by side and interleaved:
#   skiff run --rm --isolation=vm nano /bin/true   the whole CLI path
#   the floor: a bare qemu boot of the very same VM (machine, kernel,
#     command line, initramfs, devices, nano's root image) whose init only
#     runs /bin/true and resets
#   skiff run --rm --isolation=process nano /bin/true
#   skiff vm run /bin/true                         the VM box alone, over a busybox tree
# The ratio to the floor is what skiff's engine, agent, channel, root image
# and overlay add on top of the boot both pay.
# Usage: bash bench/vm.sh [RUNS]   (SKIFF=path/to/skiff; needs root)
# The store's guest kernel comes from SKIFF_BENCH_KERNELS (a kernels/
# directory of another store or of the VM tests' cache) when given, else
# skiff fetches it with apt; nano is built with `skiff base build nano`.
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

kernels=${SKIFF_BENCH_KERNELS:-/var/tmp/skiff-test-vm-cache/kernels}
if [[ -d "$kernels" ]]; then
  mkdir -p "$SKIFF_ROOT/vm/kernels"
  for k in "$kernels"/*/; do ln -s "${k%/}" "$SKIFF_ROOT/vm/kernels/$(basename "$k")"; done
fi
"$SKIFF" base build nano >"$bench_tmp/nano.log" 2>&1 || { cat "$bench_tmp/nano.log" >&2; exit 1; }

# One skiff run fills the caches (kernel, initramfs, nano's root image) and
# prints the exact qemu command line it used.
"$SKIFF" --log-level debug run --rm --isolation=vm nano /bin/true 2>"$bench_tmp/first.log" ||
  { cat "$bench_tmp/first.log" >&2; exit 1; }
qemu_line=$(sed -n 's/^skiff: debug: VM [^:]*: qemu pid [0-9]* at [0-9]* ms: //p' "$bench_tmp/first.log")
initramfs=$(sed -n 's/.* -initrd \([^ ]*\) .*/\1/p' <<<"$qemu_line")
image=$(ls "$SKIFF_ROOT"/vm/images/*.erofs)  # nano's (the line names its placeholder, since renamed)
"$SKIFF" vm run --key bench-rootfs --rootfs "$rootfs" true >/dev/null 2>&1

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
skiff_vm() { "$SKIFF" run --rm --isolation=vm nano /bin/true; }
skiff_process() { "$SKIFF" run --rm --isolation=process nano /bin/true; }
vm_box() { "$SKIFF" vm run --key bench-rootfs --rootfs "$rootfs" true; }

floor_boot >/dev/null 2>&1 || { echo "the floor VM failed: ${floor_args[*]}" >&2; exit 1; }
skiff_process >/dev/null 2>&1 || { echo "skiff run --isolation=process failed" >&2; exit 1; }

declare -A times
contenders=(skiff_vm floor_boot skiff_process vm_box)
for i in $(seq "$runs"); do
  # Rotate which goes first: the host is shared and its load drifts.
  for j in "${!contenders[@]}"; do
    c=${contenders[$(((i + j) % ${#contenders[@]}))]}
    times[$c]+="$(time_ms "$c") "
  done
done
median_of() { tr ' ' '\n' <<<"${times[$1]}" | grep . | median; }
vm_median=$(median_of skiff_vm)
floor_median=$(median_of floor_boot)
process_median=$(median_of skiff_process)
box_median=$(median_of vm_box)
echo "accelerator: $("$SKIFF" vm info --format json | python3 -c 'import json,sys; print(json.load(sys.stdin)["Accelerator"])')"
echo "runs: $runs"
for c in "${contenders[@]}"; do printf '  %-14s %s\n' "$c:" "${times[$c]}"; done
report "run --rm --isolation=vm nano /bin/true" "$vm_median" "bare qemu boot" "$floor_median"
report "run --rm --isolation=vm nano /bin/true" "$vm_median" "--isolation=process" "$process_median"
report "vm run /bin/true (the VM box alone)" "$box_median" "bare qemu boot" "$floor_median"
# The load of a shared host drifts between rounds: the median of each
# round's own ratio (neighbours in time) is steadier than the ratio of medians.
round_ratios() { paste -d' ' <(tr ' ' '\n' <<<"${times[$1]}" | grep .) <(tr ' ' '\n' <<<"${times[$2]}" | grep .) |
  awk '{ printf "%.3f\n", $1 / $2 }' | median; }
echo "median of per-round ratios: vm run ÷ floor $(round_ratios skiff_vm floor_boot), vm box ÷ floor $(round_ratios vm_box floor_boot)"
