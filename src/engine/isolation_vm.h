// VM isolation: the container in its own qemu microvm (vm::VmBox) with its
// own guest kernel; skiff's agent in the guest runs the spec's process,
// env, user, cwd and terminal, and --memory/--cpus size the VM. The root
// is the image flattened into an erofs image cached per top chain ID.
//
// The VmBox lives in the process that owns the container: the foreground
// `skiff run`, or for a detached one `skiff container vm-monitor ID` (this
// binary, own()), the child of the static skiff-monitor that writes its
// log and records its exit as for process isolation. Other commands reach
// the box through the owner's control socket (vm_control.h).
#pragma once

#include "engine/isolation.h"

namespace skiff::container {
class Store;
}

namespace skiff::engine {

class VmIsolation final : public Isolation {
 public:
  VmIsolation(const Root& root, const Config& config) : root_(root), config_(config) {}

  std::string_view name() const override { return "vm"; }
  // Refuses what cannot reach a guest (-v, --tmpfs, --read-only, --network
  // host, too little --memory), picks and checks the guest kernel, records
  // the plan as record.config["Vm"]; with a foreground run following, the
  // guest boots while create goes on (the HeadStart).
  std::unique_ptr<HeadStart> prepare(container::Record& record, const PrepareInputs& inputs) const override;
  Exit run_foreground(const ContainerRef& c, const StartInputs& inputs, const Stdio& stdio,
                      std::unique_ptr<HeadStart> head_start,
                      const std::function<void(pid_t)>& started) const override;
  // The monitor's child is the VM owner (`skiff container vm-monitor`),
  // which reports once the VM runs; the pid recorded is qemu's.
  pid_t start_detached(const ContainerRef& c, const StartInputs& inputs,
                       const container::MonitorArgs& monitor) const override;
  void signal(const ContainerRef& c, int signal, bool all) const override;
  int exec(const ContainerRef& c, const Json& process, const Stdio& stdio) const override;
  // The owner is the VM's only holder: with its lock free, the VM is gone.
  bool running(const ContainerRef&) const override { return false; }
  bool oom_killed(const ContainerRef&) const override { return false; }
  // The VM dies with its owner and leaves nothing on the host.
  void release(const ContainerRef&) const override {}
  std::optional<std::string> changes_outside_snapshot() const override {
    return "the container runs under VM isolation and its changes stay inside the VM; "
           "commit a container run with --isolation=process";
  }

  // `skiff container vm-monitor ID`: the VM owner start_detached() execs,
  // with the container's stdout, stderr and the start report on fds 3-5.
  // Returns the exit code of the container's main process.
  int own(container::Store& store, const std::string& id) const;

 private:
  const Root& root_;
  const Config& config_;
};

}  // namespace skiff::engine
