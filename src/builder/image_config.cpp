#include "builder/image_config.h"

#include <algorithm>
#include <cctype>

#include "builder/dockerignore.h"
#include "builder/stages.h"
#include "core/error.h"

namespace skiff::builder {

namespace {

Json& config_of(Json& image) {
  if (!image.is_object()) image = Json::object();
  Json& config = image["config"];
  if (!config.is_object()) config = Json::object();
  return config;
}

int parse_port_number(std::string_view text, std::string_view spec) {
  if (text.empty() || text.size() > 5 || !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    fail(ErrorKind::invalid_argument, "invalid port \"{}\": \"{}\" is not a port number (0-65535)", spec, text);
  }
  int port = std::stoi(std::string(text));
  if (port > 65535) fail(ErrorKind::invalid_argument, "invalid port \"{}\": {} is out of range (0-65535)", spec, port);
  return port;
}

std::pair<int, int> parse_port_range(std::string_view text, std::string_view spec) {
  auto dash = text.find('-');
  int start = parse_port_number(text.substr(0, dash), spec);
  if (dash == std::string_view::npos || text.substr(0, dash) == text.substr(dash + 1)) return {start, start};
  int end = parse_port_number(text.substr(dash + 1), spec);
  if (end < start) fail(ErrorKind::invalid_argument, "invalid port range: {}", text);
  return {start, end};
}

}  // namespace

std::string default_path_env() { return "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"; }

Json scratch_image(const Platform& platform) {
  Json image = {{"architecture", platform.architecture},
                {"os", platform.os},
                {"config", {{"Env", {"PATH=" + default_path_env()}}}},
                {"rootfs", {{"type", "layers"}, {"diff_ids", Json::array()}}}};
  if (!platform.variant.empty()) image["variant"] = platform.variant;
  return image;
}

std::vector<std::string> image_shell(const Json& image) {
  if (image.is_object() && image.contains("config") && image["config"].is_object()) {
    const Json& config = image["config"];
    if (config.contains("Shell") && config["Shell"].is_array() && !config["Shell"].empty()) {
      return config["Shell"].get<std::vector<std::string>>();
    }
  }
  return {"/bin/sh", "-c"};
}

std::vector<std::string> with_shell(const Json& image, const CommandLine& command) {
  if (!command.shell_form) return command.args;
  std::vector<std::string> argv = image_shell(image);
  argv.insert(argv.end(), command.args.begin(), command.args.end());
  return argv;
}

std::vector<std::string> parse_exposed_ports(std::string_view spec) {
  // [ip:][host:]container[/proto]; only the container part is exposed.
  std::string_view rest = spec;
  std::string_view proto = "tcp";
  if (auto slash = rest.rfind('/'); slash != std::string_view::npos) {
    proto = rest.substr(slash + 1);
    rest = rest.substr(0, slash);
  }
  std::string protocol(proto);
  std::transform(protocol.begin(), protocol.end(), protocol.begin(), [](unsigned char c) { return std::tolower(c); });
  if (protocol != "tcp" && protocol != "udp" && protocol != "sctp") {
    fail(ErrorKind::invalid_argument, "invalid port \"{}\": invalid proto: {} (use tcp, udp or sctp)", spec, proto);
  }
  std::string_view container = rest;
  std::string_view host;
  if (auto colon = rest.rfind(':'); colon != std::string_view::npos) {
    container = rest.substr(colon + 1);
    std::string_view front = rest.substr(0, colon);
    auto host_colon = front.rfind(':');
    host = host_colon == std::string_view::npos ? front : front.substr(host_colon + 1);
    if (front.find('[') != std::string_view::npos) host = {};  // an IPv6 address without host port
  }
  if (container.empty()) fail(ErrorKind::invalid_argument, "invalid port \"{}\": no port number", spec);
  auto [start, end] = parse_port_range(container, spec);
  if (!host.empty()) {
    auto [host_start, host_end] = parse_port_range(host, spec);
    if (end - start != host_end - host_start && end != start) {
      fail(ErrorKind::invalid_argument, "invalid ranges specified for container and host Ports: {} and {}", container, host);
    }
  }
  if (end - start > 65535) fail(ErrorKind::invalid_argument, "invalid port \"{}\"", spec);
  std::vector<std::string> ports;
  for (int port = start; port <= end; ++port) ports.push_back(std::to_string(port) + "/" + protocol);
  return ports;
}

void check_stop_signal(std::string_view signal) {
  static const char* const names[] = {"ABRT", "ALRM", "BUS",  "CHLD", "CLD",    "CONT",   "FPE",  "HUP",
                                      "ILL",  "INT",  "IO",   "IOT",  "KILL",   "PIPE",   "POLL", "PROF",
                                      "PWR",  "QUIT", "SEGV", "STKFLT", "STOP", "SYS",    "TERM", "TRAP",
                                      "TSTP", "TTIN", "TTOU", "URG",  "USR1",   "USR2",   "VTALRM", "WINCH",
                                      "XCPU", "XFSZ", "UNUSED"};
  std::string upper(signal);
  std::transform(upper.begin(), upper.end(), upper.begin(), [](unsigned char c) { return std::toupper(c); });
  auto digits = [](std::string_view s) {
    return !s.empty() && s.size() <= 3 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  if (digits(upper)) {
    int number = std::stoi(upper);
    if (number >= 1 && number <= 64) return;
  } else {
    std::string_view name = upper;
    if (name.substr(0, 3) == "SIG") name.remove_prefix(3);
    for (const char* known : names) {
      if (name == known) return;
    }
    // RTMIN+n / RTMAX-n
    for (std::string_view base : {"RTMIN", "RTMAX"}) {
      if (name == base) return;
      if (name.substr(0, 5) == base && name.size() > 6 && (name[5] == '+' || name[5] == '-') && digits(name.substr(6))) {
        int offset = std::stoi(std::string(name.substr(6)));
        if (offset <= 30) return;
      }
    }
  }
  fail(ErrorKind::invalid_argument, "invalid signal: {}", signal);
}

std::string resolve_workdir(std::string_view current, std::string_view path) {
  std::string joined;
  if (!path.empty() && path[0] == '/') {
    joined = std::string(path);
  } else {
    joined = (current.empty() ? std::string("/") : std::string(current)) + "/" + std::string(path);
  }
  return clean_path(joined);
}

void apply_to_config(Json& image, const Instruction& instruction, ConfigState& state) {
  Json& config = config_of(image);
  switch (instruction.keyword) {
    case Keyword::env: {
      Json& env = config["Env"];
      if (!env.is_array()) env = Json::array();
      for (const auto& pair : instruction.as<EnvInstruction>().pairs) {
        std::string entry = pair.key + "=" + pair.value;
        bool replaced = false;
        for (auto& existing : env) {
          std::string text = existing.is_string() ? existing.get<std::string>() : std::string();
          if (text.substr(0, text.find('=')) == pair.key) {
            existing = entry;
            replaced = true;
            break;
          }
        }
        if (!replaced) env.push_back(entry);
      }
      break;
    }
    case Keyword::label: {
      Json& labels = config["Labels"];
      if (!labels.is_object()) labels = Json::object();
      for (const auto& pair : instruction.as<LabelInstruction>().pairs) labels[pair.key] = pair.value;
      break;
    }
    case Keyword::workdir:
      config["WorkingDir"] = resolve_workdir(config.value("WorkingDir", std::string()),
                                             instruction.as<WorkdirInstruction>().path);
      break;
    case Keyword::user:
      config["User"] = instruction.as<UserInstruction>().user;
      break;
    case Keyword::cmd:
      config["Cmd"] = with_shell(image, instruction.as<CmdInstruction>().command);
      state.cmd_set = true;
      break;
    case Keyword::entrypoint: {
      const CommandLine& command = instruction.as<EntrypointInstruction>().command;
      if (!command.shell_form && command.args.empty()) {
        config.erase("Entrypoint");  // ENTRYPOINT [] clears it
      } else {
        config["Entrypoint"] = with_shell(image, command);
      }
      if (!state.cmd_set) config.erase("Cmd");
      break;
    }
    case Keyword::expose: {
      Json& ports = config["ExposedPorts"];
      if (!ports.is_object()) ports = Json::object();
      for (const auto& spec : instruction.as<ExposeInstruction>().ports) {
        for (const auto& port : parse_exposed_ports(spec)) ports[port] = Json::object();
      }
      break;
    }
    case Keyword::volume: {
      Json& volumes = config["Volumes"];
      if (!volumes.is_object()) volumes = Json::object();
      for (const auto& path : instruction.as<VolumeInstruction>().paths) {
        if (path.empty()) fail(ErrorKind::invalid_argument, "VOLUME specified can not be an empty string");
        volumes[path] = Json::object();
      }
      break;
    }
    case Keyword::stopsignal: {
      const std::string& signal = instruction.as<StopSignalInstruction>().signal;
      check_stop_signal(signal);
      config["StopSignal"] = signal;
      break;
    }
    case Keyword::healthcheck: {
      const auto& health = instruction.as<HealthcheckInstruction>();
      Json check = {{"Test", health.test}};
      // Zero values are left out, as Go's omitempty does.
      if (health.interval_ns) check["Interval"] = health.interval_ns;
      if (health.timeout_ns) check["Timeout"] = health.timeout_ns;
      if (health.start_period_ns) check["StartPeriod"] = health.start_period_ns;
      if (health.start_interval_ns) check["StartInterval"] = health.start_interval_ns;
      if (health.retries) check["Retries"] = health.retries;
      config["Healthcheck"] = check;
      break;
    }
    case Keyword::shell:
      config["Shell"] = instruction.as<ShellInstruction>().shell;
      break;
    case Keyword::onbuild: {
      Json& triggers = config["OnBuild"];
      if (!triggers.is_array()) triggers = Json::array();
      triggers.push_back(instruction.as<OnbuildInstruction>().trigger);
      break;
    }
    case Keyword::maintainer:
      image["author"] = instruction.as<MaintainerInstruction>().name;
      break;
    case Keyword::from:
    case Keyword::arg:
    case Keyword::run:
    case Keyword::copy:
    case Keyword::add:
      break;
  }
}

}  // namespace skiff::builder
