// A compact, exact rendering of parsed instructions for table tests:
// strings are JSON-quoted so escapes and spaces are visible.
#pragma once

#include <string>
#include <vector>

#include "builder/dockerfile.h"
#include "core/json.h"

namespace skiff::builder::testing {

inline std::string q(const std::string& s) { return Json(s).dump(); }

inline std::string list(const std::vector<std::string>& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) out += (i ? "," : "") + q(items[i]);
  return out + "]";
}

inline std::string heredocs(const std::vector<Heredoc>& docs) {
  std::string out;
  for (const auto& h : docs) {
    out += " <<" + h.name;
    if (!h.expand) out += "(literal)";
    if (h.chomp) out += "(chomp)";
    if (h.fd) out += "(fd" + std::to_string(h.fd) + ")";
    out += "=" + q(h.content);
  }
  return out;
}

inline std::string command(const CommandLine& c) { return (c.shell_form ? " sh" : " exec") + list(c.args); }

inline std::string describe(const Instruction& ins) {
  std::string out = keyword_name(ins.keyword);
  switch (ins.keyword) {
    case Keyword::from: {
      const auto& f = ins.as<FromInstruction>();
      if (!f.platform.empty()) out += " --platform=" + f.platform;
      out += " " + q(f.image);
      if (!f.stage_name.empty()) out += " AS " + f.stage_name;
      break;
    }
    case Keyword::arg:
      for (const auto& a : ins.as<ArgInstruction>().args) {
        out += " " + a.name + (a.default_value ? "=" + q(*a.default_value) : "");
      }
      break;
    case Keyword::env:
    case Keyword::label: {
      const auto& pairs = ins.keyword == Keyword::env ? ins.as<EnvInstruction>().pairs : ins.as<LabelInstruction>().pairs;
      for (const auto& p : pairs) out += " " + q(p.key) + "=" + q(p.value) + (p.legacy_form ? "(legacy)" : "");
      break;
    }
    case Keyword::run: {
      const auto& r = ins.as<RunInstruction>();
      for (const auto& m : r.mounts) out += " --mount=" + m;
      if (!r.network.empty()) out += " --network=" + r.network;
      if (!r.security.empty()) out += " --security=" + r.security;
      out += command(r.command) + heredocs(r.heredocs);
      break;
    }
    case Keyword::copy:
    case Keyword::add: {
      const auto& c = ins.as<CopyInstruction>();
      if (!c.from.empty()) out += " --from=" + c.from;
      if (!c.chown.empty()) out += " --chown=" + c.chown;
      if (!c.chmod.empty()) out += " --chmod=" + c.chmod;
      if (c.link) out += " --link";
      if (c.parents) out += " --parents";
      for (const auto& e : c.excludes) out += " --exclude=" + e;
      if (!c.checksum.empty()) out += " --checksum=" + c.checksum;
      if (c.unpack) out += std::string(" --unpack=") + (*c.unpack ? "true" : "false");
      if (c.json_form) out += " json";
      out += " " + list(c.sources) + heredocs(c.inline_sources) + " -> " + q(c.destination);
      break;
    }
    case Keyword::workdir:
      out += " " + q(ins.as<WorkdirInstruction>().path);
      break;
    case Keyword::user:
      out += " " + q(ins.as<UserInstruction>().user);
      break;
    case Keyword::cmd:
      out += command(ins.as<CmdInstruction>().command);
      break;
    case Keyword::entrypoint:
      out += command(ins.as<EntrypointInstruction>().command);
      break;
    case Keyword::expose:
      out += " " + list(ins.as<ExposeInstruction>().ports);
      break;
    case Keyword::volume:
      out += (ins.as<VolumeInstruction>().json_form ? " json" : "") + std::string(" ") + list(ins.as<VolumeInstruction>().paths);
      break;
    case Keyword::stopsignal:
      out += " " + q(ins.as<StopSignalInstruction>().signal);
      break;
    case Keyword::healthcheck: {
      const auto& h = ins.as<HealthcheckInstruction>();
      if (h.interval_ns) out += " interval=" + std::to_string(h.interval_ns);
      if (h.timeout_ns) out += " timeout=" + std::to_string(h.timeout_ns);
      if (h.start_period_ns) out += " start-period=" + std::to_string(h.start_period_ns);
      if (h.start_interval_ns) out += " start-interval=" + std::to_string(h.start_interval_ns);
      if (h.retries) out += " retries=" + std::to_string(h.retries);
      out += " " + list(h.test);
      break;
    }
    case Keyword::shell:
      out += " " + list(ins.as<ShellInstruction>().shell);
      break;
    case Keyword::onbuild:
      out += " " + q(ins.as<OnbuildInstruction>().trigger);
      break;
    case Keyword::maintainer:
      out += " " + q(ins.as<MaintainerInstruction>().name);
      break;
  }
  return out;
}

// Every instruction of a parsed file in order: global ARGs, then each
// stage's FROM and instructions.
inline std::vector<std::string> describe(const Dockerfile& dockerfile) {
  std::vector<std::string> out;
  for (const auto& arg : dockerfile.global_args) out.push_back(describe(arg));
  for (const auto& stage : dockerfile.stages) {
    out.push_back(describe(stage.from_instruction));
    for (const auto& ins : stage.instructions) out.push_back(describe(ins));
  }
  return out;
}

}  // namespace skiff::builder::testing
