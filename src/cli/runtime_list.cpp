// skiff runtime list / ps: the containers under --root, the processes of one.
#include <fmt/chrono.h>
#include <fmt/format.h>

#include <memory>

#include "cli/runtime_commands.h"
#include "core/error.h"

namespace skiff::cli {

namespace {
struct ListArgs {
  std::string format = "table";
  bool quiet = false;
  std::string id;
};
}  // namespace

void add_runtime_list(CLI::App& app, RuntimeContext& context) {
  auto args = std::make_shared<ListArgs>();
  auto* list = app.add_subcommand("list", "List the containers");
  list->add_option("-f,--format", args->format, "table or json")->capture_default_str();
  list->add_flag("-q,--quiet", args->quiet, "Only the ids");
  list->callback([args, &context] {
    context.guarded([&] {
      auto states = context.runtime().list();
      if (args->format == "json") {
        Json out = Json::array();
        for (const auto& s : states) out.push_back(s.to_oci_json());
        fmt::print("{}\n", out.dump());
        return;
      }
      if (args->format != "table") fail(ErrorKind::invalid_argument, "--format {}: use table or json", args->format);
      if (!args->quiet) fmt::print("{:<24} {:<8} {:<10} {}\n", "ID", "PID", "STATUS", "BUNDLE");
      for (const auto& s : states) {
        if (args->quiet) fmt::print("{}\n", s.id);
        else fmt::print("{:<24} {:<8} {:<10} {}\n", s.id, s.pid, runtime::to_string(s.status), s.bundle.string());
      }
    });
  });

  auto* ps = app.add_subcommand("ps", "List the processes of a container");
  ps->add_option("id", args->id, "Container id")->required();
  ps->add_option("-f,--format", args->format, "table or json")->capture_default_str();
  ps->callback([args, &context] {
    context.guarded([&] {
      auto pids = context.runtime().pids(args->id);
      if (args->format == "json") {
        fmt::print("{}\n", Json(pids).dump());
        return;
      }
      fmt::print("PID\n");
      for (pid_t pid : pids) fmt::print("{}\n", pid);
    });
  });
}

}  // namespace skiff::cli
