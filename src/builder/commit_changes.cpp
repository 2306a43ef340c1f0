// `skiff commit --change`: Dockerfile instructions applied to an image
// config through the same evaluation a build uses (variables expanded from
// the image's Env, the same config effects), as docker commit does.
#include <array>

#include "builder/evaluate.h"
#include "builder/image_config.h"
#include "core/error.h"
#include "core/strings.h"

namespace skiff::builder {

namespace {

// docker commit's list (daemon/commit.go, validCommitCommands).
constexpr std::array<Keyword, 11> commit_keywords = {
    Keyword::cmd,   Keyword::entrypoint, Keyword::env,  Keyword::expose, Keyword::healthcheck, Keyword::label,
    Keyword::onbuild, Keyword::stopsignal, Keyword::user, Keyword::volume, Keyword::workdir};

std::string allowed_list() {
  std::vector<std::string> names;
  for (auto k : commit_keywords) names.push_back(keyword_name(k));
  return join(names, ", ");
}

// "change:2: what" -> "what": a change is one line of its own.
std::string without_location(const std::string& message) {
  constexpr std::string_view prefix = "change:";
  if (!message.starts_with(prefix)) return message;
  auto colon = message.find(": ", prefix.size());
  return colon == std::string::npos ? message : message.substr(colon + 2);
}

}  // namespace

Json apply_commit_changes(Json image, const std::vector<std::string>& changes) {
  for (const auto& change : changes) {
    auto refuse = [&](const std::string& why) {
      fail(ErrorKind::invalid_argument, "--change \"{}\": {}", change, why);
    };
    if (trim(change).empty()) refuse("empty; give an instruction such as CMD [\"sh\"]");
    BuildPlan plan;
    try {
      plan = plan_build(parse_dockerfile("FROM scratch\n" + change + "\n", "change"), BuildOptions{});
    } catch (const Error& e) {
      refuse(without_location(e.what()));
    }
    if (plan.dockerfile.stages.size() != 1)  // the change began a stage of its own
      refuse(fmt::format("FROM cannot be applied by commit; use {}", allowed_list()));
    for (const auto& instruction : plan.dockerfile.stages.at(0).instructions)
      if (std::find(commit_keywords.begin(), commit_keywords.end(), instruction.keyword) == commit_keywords.end())
        refuse(fmt::format("{} cannot be applied by commit; use {}", keyword_name(instruction.keyword),
                           allowed_list()));
    // The evaluator fires and drops a base image's ONBUILD triggers; a
    // commit keeps them (and appends what an ONBUILD change adds).
    Json kept_triggers = Json::array();
    if (image.contains("config") && image["config"].is_object() && image["config"].contains("OnBuild")) {
      kept_triggers = image["config"]["OnBuild"];
      image["config"].erase("OnBuild");
    }
    try {
      image = evaluate_stage(plan, 0, std::move(image)).image;
    } catch (const Error& e) {
      refuse(without_location(e.what()));
    }
    Json& config = image["config"];
    if (config.contains("OnBuild") && config["OnBuild"].is_array())
      for (const auto& trigger : config["OnBuild"]) kept_triggers.push_back(trigger);
    if (kept_triggers.is_array() && !kept_triggers.empty())
      config["OnBuild"] = kept_triggers;
    else
      config.erase("OnBuild");
  }
  return image;
}

}  // namespace skiff::builder
