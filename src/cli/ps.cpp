#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/table.h"
#include "engine/engine.h"
#include "core/humanize.h"
#include "core/strings.h"

namespace skiff::cli {

namespace {

std::string status_text(const container::Record& r) {
  using namespace std::chrono;
  auto now = system_clock::now();
  switch (r.state) {
    case container::State::running:
      return "Up " + human_duration(duration_cast<seconds>(now - r.started_at.value_or(now)));
    case container::State::created: return "Created";
    case container::State::removing: return "Removing";
    case container::State::exited:
      return fmt::format("Exited ({}) {}", r.exit_code.value_or(0), time_ago(r.finished_at.value_or(now), now));
  }
  return "";
}

std::string command_text(const container::Record& r) {
  std::vector<std::string> words = r.config.value("Cmd", std::vector<std::string>{});
  std::string text = "\"" + join(words, " ") + "\"";
  if (text.size() > 22) text = text.substr(0, 20) + "…\"";
  return text;
}

}  // namespace

void add_ps_command(CLI::App& app, Context& context) {
  auto* cmd = app.add_subcommand("ps", "List containers");
  static bool all = false, quiet = false, no_trunc = false;
  static std::string format;
  cmd->add_flag("-a,--all", all, "Show all containers (default: running only)");
  cmd->add_flag("-q,--quiet", quiet, "Only display container IDs");
  cmd->add_flag("--no-trunc", no_trunc, "Show full IDs and commands");
  cmd->add_option("--format", format, "Output format: table or json");
  cmd->callback([&context] {
    bool json = wants_json(format);
    engine::Engine engine(context.root(), context.config);
    Table table({"CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "NAMES"});
    for (const auto& r : engine.list()) {
      if (!all && r.state != container::State::running) continue;
      std::string id = no_trunc ? r.id : r.short_id();
      if (quiet) {
        fmt::print("{}\n", id);
      } else if (json) {
        Json line = {{"ID", id}, {"Image", r.image_name}, {"Command", join(r.config.value("Cmd", std::vector<std::string>{}), " ")},
                     {"CreatedAt", format_rfc3339(r.created)}, {"State", to_string(r.state)},
                     {"Status", status_text(r)}, {"Names", r.name}, {"ExitCode", r.exit_code.value_or(0)},
                     {"Isolation", r.isolation}};
        fmt::print("{}\n", line.dump());
      } else {
        table.add({id, r.image_name, no_trunc ? "\"" + join(r.config.value("Cmd", std::vector<std::string>{}), " ") + "\"" : command_text(r),
                   time_ago(r.created), status_text(r), r.name});
      }
    }
    if (!quiet && !json) table.print();
  });
}

}  // namespace skiff::cli
