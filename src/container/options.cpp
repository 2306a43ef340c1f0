#include "container/options.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <set>

#include "core/error.h"
#include "core/fs.h"
#include "core/strings.h"

namespace skiff::container {

namespace {

std::vector<std::string> string_list(const Json& config, const char* key) {
  std::vector<std::string> out;
  auto it = config.find(key);
  if (it == config.end() || !it->is_array()) return out;
  for (const auto& v : *it)
    if (v.is_string()) out.push_back(v.get<std::string>());
  return out;
}

std::string env_key(const std::string& entry) { return entry.substr(0, entry.find('=')); }

void set_env(std::vector<std::string>& env, const std::string& entry) {
  auto key = env_key(entry);
  auto it = std::find_if(env.begin(), env.end(), [&](const std::string& e) { return env_key(e) == key; });
  if (it != env.end()) *it = entry;
  else env.push_back(entry);
}

void add_user_env(std::vector<std::string>& env, const std::string& entry, const std::string& origin) {
  if (entry.empty()) return;
  auto eq = entry.find('=');
  std::string key = entry.substr(0, eq);
  if (key.empty() || key.find_first_of(" \t") != std::string::npos)
    fail(ErrorKind::invalid_argument, "invalid environment variable \"{}\"{}: use KEY=VALUE", entry, origin);
  if (eq != std::string::npos) {
    set_env(env, entry);
  } else if (const char* value = std::getenv(key.c_str())) {
    set_env(env, key + "=" + value);
  }
}

bool has_key(const std::vector<std::string>& env, std::string_view key) {
  return std::any_of(env.begin(), env.end(), [&](const std::string& e) { return env_key(e) == key; });
}

}  // namespace

std::vector<std::string> resolve_command(const Json& image_config, const RunOptions& options) {
  std::vector<std::string> entrypoint = string_list(image_config, "Entrypoint");
  std::vector<std::string> cmd = string_list(image_config, "Cmd");
  if (options.entrypoint) {
    entrypoint = options.entrypoint->empty() ? std::vector<std::string>{} : std::vector<std::string>{*options.entrypoint};
    cmd.clear();
  }
  if (!options.command.empty()) cmd = options.command;
  std::vector<std::string> argv = entrypoint;
  argv.insert(argv.end(), cmd.begin(), cmd.end());
  if (argv.empty())
    fail(ErrorKind::invalid_argument,
         "no command specified: image {} has no Entrypoint or Cmd; give one after the image name", options.image);
  return argv;
}

std::vector<std::string> read_env_file(const std::string& path) {
  auto text = read_file_if_exists(path);
  if (!text) fail(ErrorKind::not_found, "env file {}: no such file", path);
  std::vector<std::string> entries;
  int number = 0;
  for (const auto& raw : split(*text, '\n')) {
    ++number;
    std::string line(trim(raw));
    if (line.empty() || line.front() == '#') continue;
    auto eq = line.find('=');
    std::string key(trim(line.substr(0, eq)));
    if (key.empty() || key.find_first_of(" \t") != std::string::npos)
      fail(ErrorKind::invalid_argument, "env file {}:{}: \"{}\" is not KEY=VALUE", path, number, line);
    // docker keeps the value verbatim (no quote processing) and trims only the key.
    entries.push_back(eq == std::string::npos ? key : key + "=" + raw.substr(raw.find('=') + 1));
  }
  return entries;
}

std::vector<std::string> resolve_environment(const Json& image_config, const RunOptions& options,
                                             const std::string& hostname, const std::string& home) {
  std::vector<std::string> image_env = string_list(image_config, "Env");
  std::vector<std::string> env;
  if (!has_key(image_env, "PATH")) env.emplace_back("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
  for (const auto& e : image_env) set_env(env, e);
  set_env(env, "HOSTNAME=" + hostname);
  if (options.tty && !has_key(env, "TERM")) env.push_back("TERM=xterm");
  for (const auto& file : options.env_files)
    for (const auto& entry : read_env_file(file)) add_user_env(env, entry, " in " + file);
  for (const auto& entry : options.env) add_user_env(env, entry, "");
  if (!has_key(env, "HOME")) env.push_back("HOME=" + home);
  return env;
}

BindMount parse_volume(const std::string& text) {
  auto parts = split(text, ':');
  if (parts.size() < 2 || parts.size() > 3)
    fail(ErrorKind::invalid_argument, "invalid volume \"{}\": use HOST-PATH:CONTAINER-PATH[:ro]", text);
  BindMount mount{parts[0], parts[1], false};
  if (mount.source.empty() || mount.source.front() != '/')
    fail(ErrorKind::invalid_argument,
         "invalid volume \"{}\": host path \"{}\" must be absolute (named volumes are not supported yet)", text,
         mount.source);
  if (mount.destination.empty() || mount.destination.front() != '/')
    fail(ErrorKind::invalid_argument, "invalid volume \"{}\": container path \"{}\" must be absolute", text,
         mount.destination);
  if (parts.size() == 3) {
    for (const auto& option : split(parts[2], ',')) {
      if (option == "ro") mount.read_only = true;
      else if (option == "rw" || option == "z" || option == "Z" || option == "rprivate" || option == "private") {
      } else {
        fail(ErrorKind::invalid_argument, "invalid volume \"{}\": unknown option \"{}\" (use ro or rw)", text, option);
      }
    }
  }
  return mount;
}

TmpfsMount parse_tmpfs(const std::string& text) {
  auto colon = text.find(':');
  TmpfsMount mount{text.substr(0, colon), colon == std::string::npos ? "" : text.substr(colon + 1)};
  if (mount.destination.empty() || mount.destination.front() != '/')
    fail(ErrorKind::invalid_argument, "invalid --tmpfs \"{}\": the container path must be absolute", text);
  return mount;
}

CpuQuota parse_cpus(double cpus) {
  if (!(cpus > 0) || !std::isfinite(cpus))
    fail(ErrorKind::invalid_argument, "invalid --cpus {}: use a positive number such as 0.5 or 2", cpus);
  CpuQuota q;
  q.quota = static_cast<std::int64_t>(std::llround(cpus * static_cast<double>(q.period)));
  if (q.quota < 1000) fail(ErrorKind::invalid_argument, "invalid --cpus {}: the minimum is 0.01", cpus);
  return q;
}

std::string normalize_capability(const std::string& name) {
  static const std::set<std::string> known = {
      "CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID", "SETPCAP",
      "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW", "IPC_LOCK", "IPC_OWNER",
      "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT", "SYS_ADMIN", "SYS_BOOT", "SYS_NICE",
      "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD", "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP",
      "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG", "WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF",
      "CHECKPOINT_RESTORE"};
  std::string upper;
  for (char c : name) upper.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  if (upper.starts_with("CAP_")) upper = upper.substr(4);
  if (upper == "ALL") return "ALL";
  if (!known.contains(upper))
    fail(ErrorKind::invalid_argument, "unknown capability \"{}\": use a name such as NET_ADMIN or CAP_SYS_TIME", name);
  return "CAP_" + upper;
}

}  // namespace skiff::container
