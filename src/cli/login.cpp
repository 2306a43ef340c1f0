#include <fmt/format.h>
#include <termios.h>
#include <unistd.h>

#include <iostream>

#include "cli/commands.h"
#include "core/error.h"
#include "core/strings.h"
#include "registry/client.h"

namespace skiff::cli {

namespace {

std::string read_line(bool echo) {
  termios saved{};
  bool tty = ::isatty(STDIN_FILENO) && ::tcgetattr(STDIN_FILENO, &saved) == 0;
  if (tty && !echo) {
    termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  }
  std::string line;
  std::getline(std::cin, line);
  if (tty && !echo) {
    ::tcsetattr(STDIN_FILENO, TCSANOW, &saved);
    fmt::print(stderr, "\n");
  }
  return line;
}

}  // namespace

void add_login_command(CLI::App& app, Context& context) {
  auto* cmd = app.add_subcommand("login", "Log in to a registry");
  cmd->footer("Credentials are checked with the registry, then stored in docker's client file\n"
              "($DOCKER_CONFIG/config.json or ~/.docker/config.json, mode 0600).");
  static std::string host, username;
  static bool password_stdin = false;
  cmd->add_option("HOST", host, "Registry, HOST[:PORT]")->required();
  cmd->add_option("-u,--username", username, "User name");
  cmd->add_flag("--password-stdin", password_stdin, "Read the password from standard input");
  cmd->callback([&context] {
    std::string domain = registry_host_argument(host);
    Credentials credentials;
    credentials.username = username;
    if (password_stdin) {
      if (username.empty()) fail(ErrorKind::invalid_argument, "login {}: --password-stdin needs --username", domain);
      std::string all(std::istreambuf_iterator<char>(std::cin), {});
      credentials.password = std::string(trim(all));
    } else {
      if (!::isatty(STDIN_FILENO))
        fail(ErrorKind::invalid_argument, "login {}: no terminal to ask for a password; use --password-stdin", domain);
      if (credentials.username.empty()) {
        fmt::print(stderr, "Username: ");
        credentials.username = std::string(trim(read_line(true)));
      }
      fmt::print(stderr, "Password: ");
      credentials.password = read_line(false);
    }
    if (credentials.username.empty() || credentials.password.empty())
      fail(ErrorKind::invalid_argument, "login {}: user name and password must not be empty", domain);
    RegistryOptions options = RegistryOptions::from(context.config);
    options.credentials = credentials;
    RegistryClient client(domain, options);
    try {
      client.check_login();
    } catch (const Error& e) {
      rethrow_with_context(e, "login " + domain);
    }
    options.credential_file.store(domain, credentials);
    fmt::print("Login Succeeded\n");
  });
}

}  // namespace skiff::cli
