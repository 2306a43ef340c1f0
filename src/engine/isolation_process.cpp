#include "engine/isolation_process.h"

#include <unistd.h>

#include <fmt/format.h>

#include "core/error.h"
#include "core/fs.h"
#include "engine/detach.h"
#include "engine/fd_io.h"
#include "runtime/runtime.h"

namespace skiff::engine {

namespace {

// Where a start differs from the bundle's config.json, the spec to use.
std::optional<Json> spec_for(const ContainerRef& c, const StartInputs& inputs) {
  if (inputs.network_namespace.empty()) return std::nullopt;
  Json spec = parse_json(read_file(c.paths.spec()), "config.json of " + c.record.short_id());
  return join_network_namespace(std::move(spec), inputs.network_namespace);
}

// The runtime keeps our own descriptor for -1: /dev/null stands for "none".
runtime::Stdio runtime_stdio(const Stdio& stdio, int devnull) {
  return {stdio.in < 0 ? devnull : stdio.in, stdio.out < 0 ? devnull : stdio.out, stdio.err < 0 ? devnull : stdio.err};
}

template <typename Options>
void fill_create(Options& options, const ContainerRef& c, const StartInputs& inputs) {
  options.id = c.record.id;
  options.bundle = c.paths.bundle();
  options.config = spec_for(c, inputs);
  options.init_reaper = c.record.config.value("Init", false);
}

}  // namespace

Json join_network_namespace(Json spec, const std::filesystem::path& netns) {
  Json& namespaces = spec["linux"]["namespaces"];
  if (!namespaces.is_array()) namespaces = Json::array();
  Json entry = {{"type", "network"}, {"path", netns.string()}};
  for (auto& ns : namespaces)
    if (ns.value("type", "") == "network") {
      ns = entry;
      return spec;
    }
  namespaces.push_back(entry);
  return spec;
}

std::unique_ptr<HeadStart> ProcessIsolation::prepare(container::Record&, const PrepareInputs&) const {
  return nullptr;  // every option of RunOptions is the runtime's to honour
}

Exit ProcessIsolation::run_foreground(const ContainerRef& c, const StartInputs& inputs, const Stdio& stdio,
                                      std::unique_ptr<HeadStart>, const std::function<void(pid_t)>&) const {
  runtime::RunOptions run;
  fill_create(run, c, inputs);
  UniqueFd devnull = open_devnull();
  run.stdio = runtime_stdio(stdio, devnull.get());
  try {
    // The pid is in the runtime's state; ps reconciles through it.
    auto status = runtime_.run(run);
    return {status.exit_code, status.oom_killed};
  } catch (const runtime::ExecError& e) {
    fmt::print(stderr, "skiff: {}\n", e.what());
    return {e.exit_code(), false};
  }
}

pid_t ProcessIsolation::start_detached(const ContainerRef& c, const StartInputs& inputs,
                                       const container::MonitorArgs& monitor) const {
  return start_under_monitor(c.paths, c.record.short_id(), monitor, [&](const DetachedStdio& io) {
    runtime::CreateOptions create;
    fill_create(create, c, inputs);
    UniqueFd devnull = open_devnull();
    create.stdio = {devnull.get(), io.out, io.err};
    runtime::Process process = runtime_.create(create);
    runtime_.start(c.record.id);
    return Launched{process.pid, std::move(process.pty_master)};
  });
}

void ProcessIsolation::signal(const ContainerRef& c, int signal, bool all) const {
  runtime_.kill(c.record.id, signal, all);
}

int ProcessIsolation::exec(const ContainerRef& c, const Json& process, const Stdio& stdio) const {
  runtime::ExecOptions options;
  options.process = runtime::parse_process(process);
  UniqueFd devnull = open_devnull();
  options.stdio = runtime_stdio(stdio, devnull.get());
  try {
    return runtime_.exec_and_wait(c.record.id, options).exit_code;
  } catch (const runtime::ExecError& e) {
    fmt::print(stderr, "skiff: {}\n", e.what());
    return e.exit_code();
  }
}

bool ProcessIsolation::running(const ContainerRef& c) const {
  try {
    return runtime_.state(c.record.id).status == runtime::Status::running;
  } catch (const Error&) {
    return false;
  }
}

bool ProcessIsolation::oom_killed(const ContainerRef& c) const { return runtime_.oom_killed(c.record.id); }

void ProcessIsolation::release(const ContainerRef& c) const {
  try {
    runtime_.remove(c.record.id, true);
  } catch (const Error& e) {
    if (e.kind() != ErrorKind::not_found) throw;
  }
}

}  // namespace skiff::engine
