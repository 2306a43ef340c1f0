#include <fmt/format.h>

#include "cli/commands.h"
#include "registry/client.h"

namespace skiff::cli {

void add_logout_command(CLI::App& app, Context& context) {
  auto* cmd = app.add_subcommand("logout", "Log out from a registry");
  cmd->footer("Removes the registry's entry from docker's client file.");
  static std::string host;
  cmd->add_option("HOST", host, "Registry, HOST[:PORT]")->required();
  cmd->callback([&context] {
    std::string domain = registry_host_argument(host);
    RegistryOptions options = RegistryOptions::from(context.config);
    if (options.credential_file.erase(domain)) fmt::print("Removing login credentials for {}\n", domain);
    else fmt::print("Not logged in to {}\n", domain);
  });
}

}  // namespace skiff::cli
