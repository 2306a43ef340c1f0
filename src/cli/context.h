// What every command gets: the global options, the loaded config and the
// store root, opened on first use.
#pragma once

#include <CLI/CLI.hpp>

#include <memory>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/root.h"
#include "reference/reference.h"

namespace skiff::cli {

struct Context {
  std::string root_path;
  std::string log_level = "warn";
  std::vector<std::string> insecure_registries;  // --insecure-registry, added to the config's
  Config config;
  int exit_code = 0;
  // The container command after the image of run/create/exec (command_tail.h).
  std::vector<std::string> command_tail;

  Root& root();
  ReferencePolicy policy() const { return {config.default_registry}; }
  Reference parse_reference(const std::string& text) const { return Reference::parse(text, policy()); }

 private:
  std::unique_ptr<Root> root_;
};

// Each command file defines one of these; main.cpp calls them all.
using CommandRegistrar = void (*)(CLI::App& app, Context& context);

}  // namespace skiff::cli
