// VM isolation: one qemu microvm per container, booted from a guest kernel
// and skiff's own initramfs, whose guest agent runs the container's process.
// A handler of the run path (as crun's krun handler is): create, start,
// kill, wait, exec, resize, over a root filesystem directory and an
// OCI-like process description. See src/vm/README.md for the design.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/root.h"
#include "vm/kernel.h"
#include "vm/protocol.h"

namespace skiff::vm {

enum class Accelerator { automatic, kvm, tcg };
std::string to_string(Accelerator accel);
// "auto", "kvm", "tcg"; throws invalid_argument otherwise.
Accelerator parse_accelerator(std::string_view text);

struct AcceleratorChoice {
  Accelerator accel = Accelerator::tcg;  // never automatic
  std::string reason;                    // why, in words for `skiff info` and the warning
};
// `requested` automatic reads $SKIFF_VM_ACCEL, then picks KVM when the host
// has hardware virtualisation and TCG otherwise (also under PVM, whose
// /dev/kvm cannot run a stock kernel).
AcceleratorChoice choose_accelerator(Accelerator requested = Accelerator::automatic);
// The one-line warning (once per process) that VMs run emulated under TCG.
void warn_if_emulated(const AcceleratorChoice& choice);

// The process to run: the OCI runtime spec's process section, with numeric
// user and groups already resolved by the caller.
using Process = protocol::ProcessSpec;

// The smallest VM the guest kernel and agent boot in.
inline constexpr std::uint64_t kMinimumMemory = 128ull << 20;

struct Resources {
  std::uint64_t memory_bytes = 0;  // 0: 512 MiB; at least kMinimumMemory
  double cpus = 0;                 // 0: 1; fractions round up to whole vCPUs
};

// Another guest kernel than Debian's cloud kernel from the store.
struct KernelChoice {
  std::filesystem::path kernel;       // bzImage
  std::filesystem::path modules_dir;  // its lib/modules/<release>, if it has modules
  std::filesystem::path initramfs;    // a ready initramfs with skiff's agent as /init (skips building one)
};

struct VmConfig {
  std::filesystem::path rootfs;     // the flattened image: a directory
  // Instead of `rootfs`: fills an empty directory with the flattened image.
  // Called only when the erofs image is not cached, on the image builder's
  // thread while the VM boots (so it must not share the caller's database
  // connection); the directory is deleted once the image is built.
  std::function<void(const std::filesystem::path& empty_dir)> make_rootfs;
  std::string rootfs_key;           // cache key of its erofs image (e.g. top chain ID); empty: uncached
  std::string min_kernel;           // the image's os.version: minimum guest kernel (empty: any)
  Process process;
  Resources resources;
  KernelChoice kernel;
  Accelerator accel = Accelerator::automatic;
};

// The caller's side of the process's stdio. The box dups what it needs, so
// the caller may close these after start()/exec(). -1: not connected
// (stdin then reads EOF; output is discarded). With process.terminal, `in`
// and `out` are the terminal (e.g. the user's tty or a pty master) and
// `err` is unused.
struct Stdio {
  int in = -1;
  int out = -1;
  int err = -1;
  // Also sees every chunk of output (stderr false with a terminal), on the
  // relay thread: e.g. a container log next to the terminal.
  std::function<void(bool is_stderr, std::string_view data)> copy = {};
};

// For `skiff info`: can this host run VMs, and how.
struct VmSupport {
  bool usable = false;             // qemu and mkfs.erofs present
  AcceleratorChoice accel;
  std::string qemu;                // path, empty when missing
  bool erofs_tools = false;
  std::optional<GuestKernel> kernel;  // the cached guest kernel, if any
  std::string detail;              // one line: "tcg (no vmx/svm …); kernel 6.1.0-56-cloud-amd64 cached"
};
VmSupport vm_support(const Root& root);

// Where the VM box keeps its caches inside the store.
std::filesystem::path vm_dir(const Root& root);
KernelCache kernel_cache(const Root& root);

// The kernel a config would boot: the override (its modules, when not
// named, from `modules/` beside it or /lib/modules/<release>), or the
// store's cached Debian kernel (fetched on first use).
GuestKernel select_kernel(const Root& root, const KernelChoice& choice);

class VmBox {
 public:
  // create: validates the config, picks the kernel (refusing one that does
  // not satisfy min_kernel), and prepares the initramfs. Nothing runs yet.
  // `root` must outlive the box.
  VmBox(const Root& root, std::string id, VmConfig config);
  // Kills the VM if it still runs; leaves no process, temp file or mount.
  ~VmBox();
  VmBox(const VmBox&) = delete;
  VmBox& operator=(const VmBox&) = delete;

  // Launches qemu now, before the process is known, so that the guest
  // boots while the caller still prepares it; start() hands it over. The
  // VM dies with the thread that called boot() (PDEATHSIG). Idempotent.
  void boot();
  // Boots the VM unless boot() did (the root image is built in parallel if
  // not cached) and starts the process (the config's, or `process`) once
  // the agent is up. Returns without waiting for the boot.
  void start(Stdio stdio);
  void start(Stdio stdio, const Process& process);

  // Sends `signal` to the container's main process; SIGKILL (or any signal
  // before the process runs) ends the whole VM at once.
  void kill(int signal);
  void resize(std::uint16_t rows, std::uint16_t cols);

  // The main process's exit code (128+N for signal N). Throws when the VM
  // failed before the process ran (agent error, qemu crash).
  int wait();
  std::optional<int> wait_for(std::chrono::milliseconds timeout);
  // SIGTERM, then after `grace` the VM is killed. Returns the exit code.
  int stop(std::chrono::milliseconds grace = std::chrono::seconds(10));

  // Runs another process in the running VM; returns its id for wait_exec.
  std::uint32_t exec(const Process& process, Stdio stdio);
  int wait_exec(std::uint32_t exec_id);
  void kill_exec(std::uint32_t exec_id, int signal);
  void resize_exec(std::uint32_t exec_id, std::uint16_t rows, std::uint16_t cols);

  pid_t qemu_pid() const;
  const GuestKernel& kernel() const;
  const AcceleratorChoice& accelerator() const;
  // Messages the agent reported (e.g. "exec: \"foo\": executable file not found in $PATH"),
  // about any process, or about one (0: the main process, else an exec id).
  std::string errors() const;
  std::string process_errors(std::uint32_t process) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// create + start + wait: runs `config.process` and returns its exit code.
int run(const Root& root, const VmConfig& config, Stdio stdio);

}  // namespace skiff::vm
