// Process isolation: the container as an isolated host process (namespaces,
// cgroups, seccomp, capabilities) through runtime::Runtime, which keeps
// its state under <root>/runtime. Nothing VM-like: the caller (the
// foreground skiff, or the monitor-to-be) becomes the container's parent.
#pragma once

#include <filesystem>

#include "core/json.h"
#include "engine/isolation.h"

namespace skiff::engine {

class ProcessIsolation final : public Isolation {
 public:
  explicit ProcessIsolation(runtime::Runtime& runtime) : runtime_(runtime) {}

  std::string_view name() const override { return "process"; }
  std::unique_ptr<HeadStart> prepare(container::Record& record, const PrepareInputs& inputs) const override;
  Exit run_foreground(const ContainerRef& c, const StartInputs& inputs, const Stdio& stdio,
                      std::unique_ptr<HeadStart> head_start,
                      const std::function<void(pid_t)>& started) const override;
  pid_t start_detached(const ContainerRef& c, const StartInputs& inputs,
                       const container::MonitorArgs& monitor) const override;
  void signal(const ContainerRef& c, int signal, bool all) const override;
  int exec(const ContainerRef& c, const Json& process, const Stdio& stdio) const override;
  bool running(const ContainerRef& c) const override;
  bool oom_killed(const ContainerRef& c) const override;
  void release(const ContainerRef& c) const override;
  std::optional<std::string> changes_outside_snapshot() const override { return std::nullopt; }

 private:
  runtime::Runtime& runtime_;
};

// The OCI spec with its network namespace replaced by the one at
// `netns` (added when the spec shares the host's).
Json join_network_namespace(Json spec, const std::filesystem::path& netns);

}  // namespace skiff::engine
