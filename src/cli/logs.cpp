#include <unistd.h>

#include <fmt/format.h>

#include "cli/commands.h"
#include "engine/engine.h"
#include "container/log.h"
#include "core/error.h"

namespace skiff::cli {

void add_logs_command(CLI::App& app, Context& context) {
  auto* cmd = app.add_subcommand("logs", "Show a container's output");
  static std::string name;
  static bool follow = false, timestamps = false;
  static std::string tail = "all";
  cmd->add_option("CONTAINER", name, "Container name or ID (prefix)")->required();
  cmd->add_flag("-f,--follow", follow, "Keep following the output until the container exits");
  cmd->add_flag("-t,--timestamps", timestamps, "Prefix each line with its time");
  cmd->add_option("-n,--tail", tail, "Only the last N lines (or all)")->capture_default_str();
  cmd->callback([&context] {
    engine::Engine engine(context.root(), context.config);
    container::Record record = engine.get(name);
    container::LogReadOptions options;
    if (tail != "all") {
      try {
        size_t used = 0;
        long long n = std::stoll(tail, &used);
        if (used != tail.size() || n < 0) throw std::invalid_argument(tail);
        options.tail = static_cast<size_t>(n);
      } catch (const std::exception&) {
        fail(ErrorKind::invalid_argument, "--tail {}: use a number of lines or all", tail);
      }
    }
    options.follow = follow;
    std::string id = record.id;
    options.keep_following = [&engine, id] {
      auto r = engine.store().find(id);
      return r && r->state == container::State::running;
    };
    container::read_logs(engine.log_path(record), options, [](const container::LogEntry& e) {
      std::string line = timestamps ? e.time + " " + e.text : e.text;
      int fd = e.stream == "stderr" ? STDERR_FILENO : STDOUT_FILENO;
      std::string_view rest = line;
      while (!rest.empty()) {
        ssize_t n = ::write(fd, rest.data(), rest.size());
        if (n <= 0) return;
        rest.remove_prefix(static_cast<size_t>(n));
      }
    });
  });
}

}  // namespace skiff::cli
