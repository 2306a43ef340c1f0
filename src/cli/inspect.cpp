#include <fmt/format.h>

#include <functional>
#include <optional>

#include "cli/commands.h"
#include "cli/table.h"
#include "core/error.h"
#include "engine/engine.h"
#include "image/inspect.h"

namespace skiff::cli {

namespace {

// One resolver per kind of object, tried in order; the first that knows
// the name answers. Containers will join the list.
using Resolver = std::function<std::optional<Json>(Context&, const std::string& name)>;

std::optional<Json> inspect_container_named(Context& context, const std::string& name) {
  engine::Engine engine(context.root(), context.config);
  auto record = engine.store().find(name);
  if (!record) return std::nullopt;
  return engine.inspect(engine.get(record->id));
}

std::optional<Json> inspect_image_named(Context& context, const std::string& name) {
  ImageStore store(context.root());
  try {
    ImageRecord image = store.resolve(name, context.policy());
    return inspect_image(store, image, context.policy());
  } catch (const Error& e) {
    if (e.kind() == ErrorKind::not_found) return std::nullopt;
    throw;
  }
}

const std::vector<std::pair<std::string, Resolver>>& resolvers() {
  static const std::vector<std::pair<std::string, Resolver>> list = {
      {"container", inspect_container_named},
      {"image", inspect_image_named},
  };
  return list;
}

}  // namespace

void add_inspect_command(CLI::App& app, Context& context) {
  auto* cmd = app.add_subcommand("inspect", "Show low-level information on containers and images as JSON");
  static std::vector<std::string> names;
  static std::string format = "json";
  static std::string type;
  cmd->add_option("NAME", names, "Container or image name or ID (prefix)")->required();
  cmd->add_option("-f,--format", format, "Output format: json");
  cmd->add_option("--type", type, "Only look for this kind of object: container or image");
  cmd->callback([&context] {
    if (format != "json" && !wants_json(format))
      fail(ErrorKind::invalid_argument, "unknown --format \"{}\": inspect prints json", format);
    if (!type.empty() && std::none_of(resolvers().begin(), resolvers().end(), [](const auto& r) { return r.first == type; }))
      fail(ErrorKind::invalid_argument, "unknown --type \"{}\": use container or image", type);
    Json out = Json::array();
    std::vector<std::string> missing;
    for (const auto& name : names) {
      std::optional<Json> found;
      for (const auto& [kind, resolve] : resolvers()) {
        if (!type.empty() && kind != type) continue;
        if ((found = resolve(context, name))) break;
      }
      if (found) out.push_back(std::move(*found));
      else missing.push_back(name);
    }
    if (!out.empty()) fmt::print("{}\n", out.dump(4));
    if (!missing.empty()) {
      if (out.empty()) fail(ErrorKind::not_found, "no such object: {}", fmt::join(missing, ", "));
      fmt::print(stderr, "skiff: no such object: {}\n", fmt::join(missing, ", "));
      context.exit_code = 1;
    }
  });
}

}  // namespace skiff::cli
