#include "builder/run_step.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <thread>

#include "container/mount_points.h"
#include "container/spec.h"
#include "container/user.h"
#include "core/error.h"
#include "core/log.h"
#include "core/pipe.h"
#include "core/resolve.h"
#include "core/strings.h"
#include "runtime/runtime.h"
#include "runtime/spec.h"

namespace skiff::builder {

namespace {

// The hostname every RUN sees: the same on every build, so a step that
// records it stays reproducible.
constexpr const char* build_hostname = "skiff-build";

std::string absolute_target(const std::string& target, const std::string& workdir) {
  if (!target.empty() && target[0] == '/') return target;
  return (workdir.empty() || workdir == "/" ? std::string("/") : workdir + "/") + target;
}

void add_mount(Json& spec, const std::string& destination, const std::string& type, const std::string& source,
               Json options) {
  spec["mounts"].push_back({{"destination", destination}, {"type", type}, {"source", source}, {"options", options}});
}

// What the process reads as its own mounts: --mount specs, heredoc files.
void add_step_mounts(Json& spec, WritableRoot& root, const RunStep& step, const std::vector<ResolvedMount>& mounts) {
  for (const auto& resolved : mounts) {
    const RunMount& mount = resolved.mount;
    std::string target = absolute_target(mount.target, step.workdir);
    switch (mount.type) {
      case RunMount::Type::bind:
        if (!mount.read_only)
          fail(ErrorKind::unsupported, "--mount type=bind,rw: writable bind mounts are not supported yet; copy the "
               "files into the step instead");
        add_mount(spec, target, "bind", resolved.source.string(), {"rbind", "rprivate", "ro", "nosuid", "nodev"});
        break;
      case RunMount::Type::cache:
        add_mount(spec, target, "bind", resolved.source.string(),
                  {"rbind", "rprivate", mount.read_only ? "ro" : "rw", "nosuid", "nodev"});
        break;
      case RunMount::Type::tmpfs: {
        Json options = {"nosuid", "nodev", "mode=1777"};
        if (mount.size_limit) options.push_back("size=" + std::to_string(mount.size_limit));
        add_mount(spec, target, "tmpfs", "tmpfs", options);
        break;
      }
      case RunMount::Type::secret:
      case RunMount::Type::ssh:
        break;  // the executor refuses required ones: skiff build takes no secrets yet
    }
  }
  if (!step.files.empty()) {
    auto dir = root.scratch() / "pipes";
    ensure_dir(dir, 0755);
    for (const auto& file : step.files) {
      auto name = std::filesystem::path(file.path).filename();
      write_file_atomic(dir / name, file.content, file.mode, false);
      ::chmod((dir / name).c_str(), file.mode);
      add_mount(spec, file.path, "bind", (dir / name).string(), {"rbind", "rprivate", "ro"});
    }
  }
}

}  // namespace

void run_step(WritableRoot& root, const RunStep& step, const std::vector<ResolvedMount>& mounts,
              const RunSettings& settings) {
  std::string network = step.network.empty() ? settings.network : step.network;
  if (network != "host" && network != "none")
    fail(ErrorKind::unsupported, "--network={}: builds support host and none", network);
  if (step.security == "insecure")
    fail(ErrorKind::unsupported, "--security=insecure: skiff never runs build steps privileged");

  container::RunOptions options;
  options.network = network;
  Json image_config = {{"Env", step.env}, {"WorkingDir", step.workdir}, {"User", step.user}, {"Cmd", step.argv}};
  container::User user = container::resolve_user(root.fd(), step.user);
  auto etc = root.scratch() / "etc";
  container::write_etc_files(etc, build_hostname, network);
  container::SpecInputs inputs{options, image_config, root.path(), user, build_hostname, "/skiff/" + root.key(), etc};
  Json spec = container::make_runtime_spec(runtime::default_spec(), inputs);
  spec["process"]["args"] = step.argv;  // exactly the step's argv, whatever the image's Entrypoint
  add_step_mounts(spec, root, step, mounts);

  // Mount targets the image lacks are created by the runtime; they are not
  // the step's changes.
  std::vector<std::string> absent;
  for (const auto& target : container::mount_targets(spec)) {
    UniqueFd fd = open_in_root(root.fd(), target, O_PATH | O_NOFOLLOW);
    if (!fd) absent.push_back(target);
  }
  root.add_stubs(absent);

  Pipe output;
  UniqueFd devnull(::open("/dev/null", O_RDWR | O_CLOEXEC));
  if (!devnull) fail_errno("open /dev/null");
  runtime::RunOptions run;
  run.id = root.key();
  run.bundle = root.scratch();
  // Through text, as a config.json would come: the runtime's parser wants
  // non-negative numbers unsigned, which a JSON literal built in C++ is not.
  run.config = Json::parse(spec.dump());
  run.stdio = {devnull.get(), output.write.get(), output.write.get()};
  run.forward_signals = false;  // stages run in parallel threads; the build handles signals itself
  run.relay_terminal = false;

  runtime::Runtime runtime;
  runtime::ExitStatus status;
  std::string failure;
  if (settings.track) settings.track(run.id, true);  // may refuse: the build was interrupted
  struct Untrack {
    const RunSettings& settings;
    const std::string& id;
    ~Untrack() {
      if (settings.track) settings.track(id, false);
    }
  } untrack{settings, run.id};
  {
    std::thread relay([&] {
      char buffer[16384];
      for (;;) {
        ssize_t n = ::read(output.read.get(), buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        if (settings.output) settings.output(std::string_view(buffer, static_cast<size_t>(n)));
      }
    });
    // The relay ends when the last writer is gone: ours here, the
    // container's with its processes.
    struct Join {
      std::thread& thread;
      UniqueFd& writer;
      ~Join() {
        writer.reset();
        thread.join();
      }
    } joiner{relay, output.write};
    try {
      status = runtime.run(run);
    } catch (const runtime::ExecError& e) {
      status.exit_code = e.exit_code();
      failure = e.what();
    }
  }
  log::debug("build root {}: {} exited with {}", root.key(), step.argv.empty() ? "" : step.argv.front(), status.exit_code);

  std::string command = join(step.argv, " ");
  if (!failure.empty()) {
    auto colon = failure.find(": ");
    fail(ErrorKind::invalid_argument, "process \"{}\" could not start: {}", command,
         colon == std::string::npos ? failure : failure.substr(colon + 2));
  }
  if (status.exit_code != 0) {
    fail(ErrorKind::invalid_argument, "process \"{}\" did not complete successfully: exit code: {}{}", command,
         status.exit_code, status.oom_killed ? " (killed: out of memory)" : "");
  }
}

}  // namespace skiff::builder
