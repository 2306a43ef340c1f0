#include "runtime/spec.h"

#include <sched.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/capability.h>

#include <algorithm>
#include <cctype>

#include "core/error.h"
#include "core/fs.h"
#include "runtime/seccomp.h"

namespace skiff::runtime {

namespace {

[[noreturn]] void bad(std::string_view field, std::string_view what) {
  fail(ErrorKind::invalid_argument, "config.json: {}: {}", field, what);
}

std::string join_field(std::string_view parent, std::string_view key) {
  return parent.empty() ? std::string(key) : fmt::format("{}.{}", parent, key);
}

const Json* member(const Json& object, const char* key) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return nullptr;
  return &*it;
}

std::string get_string(const Json& object, const char* key, std::string_view parent, std::string fallback = {}) {
  const Json* v = member(object, key);
  if (!v) return fallback;
  if (!v->is_string()) bad(join_field(parent, key), "expected a string");
  return v->get<std::string>();
}

bool get_bool(const Json& object, const char* key, std::string_view parent, bool fallback = false) {
  const Json* v = member(object, key);
  if (!v) return fallback;
  if (!v->is_boolean()) bad(join_field(parent, key), "expected true or false");
  return v->get<bool>();
}

template <typename T>
std::optional<T> get_number(const Json& object, const char* key, std::string_view parent) {
  const Json* v = member(object, key);
  if (!v) return std::nullopt;
  if constexpr (std::is_unsigned_v<T>) {
    if (!v->is_number_unsigned()) bad(join_field(parent, key), "expected a non-negative integer");
    auto n = v->get<std::uint64_t>();
    if (n > std::numeric_limits<T>::max()) bad(join_field(parent, key), "value too large");
    return static_cast<T>(n);
  } else {
    if (!v->is_number_integer()) bad(join_field(parent, key), "expected an integer");
    auto n = v->get<std::int64_t>();
    if (n > std::numeric_limits<T>::max() || n < std::numeric_limits<T>::min())
      bad(join_field(parent, key), "value out of range");
    return static_cast<T>(n);
  }
}

std::vector<std::string> get_strings(const Json& object, const char* key, std::string_view parent) {
  const Json* v = member(object, key);
  if (!v) return {};
  if (!v->is_array()) bad(join_field(parent, key), "expected an array of strings");
  std::vector<std::string> out;
  out.reserve(v->size());
  for (const auto& item : *v) {
    if (!item.is_string()) bad(join_field(parent, key), "expected an array of strings");
    out.push_back(item.get<std::string>());
  }
  return out;
}

const Json& get_object(const Json& object, const char* key, std::string_view parent) {
  static const Json empty = Json::object();
  const Json* v = member(object, key);
  if (!v) return empty;
  if (!v->is_object()) bad(join_field(parent, key), "expected an object");
  return *v;
}

const Json& get_array(const Json& object, const char* key, std::string_view parent) {
  static const Json empty = Json::array();
  const Json* v = member(object, key);
  if (!v) return empty;
  if (!v->is_array()) bad(join_field(parent, key), "expected an array");
  return *v;
}

std::uint64_t capability_mask(const Json& caps, const char* key) {
  std::uint64_t mask = 0;
  for (const auto& name : get_strings(caps, key, "process.capabilities")) {
    auto cap = capability_from_name(name);
    if (!cap) bad(fmt::format("process.capabilities.{}", key), fmt::format("unknown capability \"{}\"", name));
    if (*cap > 63) continue;
    mask |= std::uint64_t{1} << *cap;
  }
  return mask;
}

std::vector<IdMapping> parse_mappings(const Json& array, std::string_view field) {
  std::vector<IdMapping> out;
  for (const auto& m : array) {
    if (!m.is_object()) bad(field, "expected objects with containerID, hostID, size");
    IdMapping mapping;
    mapping.container_id = get_number<std::uint32_t>(m, "containerID", field).value_or(0);
    mapping.host_id = get_number<std::uint32_t>(m, "hostID", field).value_or(0);
    mapping.size = get_number<std::uint32_t>(m, "size", field).value_or(0);
    if (mapping.size == 0) bad(field, "a mapping needs a non-zero size");
    out.push_back(mapping);
  }
  return out;
}

std::vector<Hook> parse_hooks(const Json& hooks, const char* key) {
  std::vector<Hook> out;
  std::string field = fmt::format("hooks.{}", key);
  for (const auto& h : get_array(hooks, key, "hooks")) {
    if (!h.is_object()) bad(field, "expected hook objects");
    Hook hook;
    hook.path = get_string(h, "path", field);
    if (hook.path.empty() || hook.path[0] != '/') bad(field, "a hook path must be absolute");
    hook.args = get_strings(h, "args", field);
    hook.env = get_strings(h, "env", field);
    hook.timeout = get_number<int>(h, "timeout", field);
    if (hook.timeout && *hook.timeout <= 0) bad(field + ".timeout", "must be greater than zero");
    out.push_back(std::move(hook));
  }
  return out;
}

std::optional<NamespaceType> namespace_from_name(std::string_view name) {
  if (name == "pid") return NamespaceType::pid;
  if (name == "network") return NamespaceType::network;
  if (name == "mount") return NamespaceType::mount;
  if (name == "ipc") return NamespaceType::ipc;
  if (name == "uts") return NamespaceType::uts;
  if (name == "user") return NamespaceType::user;
  if (name == "cgroup") return NamespaceType::cgroup;
  if (name == "time") return NamespaceType::time;
  return std::nullopt;
}

Resources parse_resources(const Json& r) {
  Resources res;
  const Json& memory = get_object(r, "memory", "linux.resources");
  res.memory.limit = get_number<std::int64_t>(memory, "limit", "linux.resources.memory");
  res.memory.reservation = get_number<std::int64_t>(memory, "reservation", "linux.resources.memory");
  res.memory.swap = get_number<std::int64_t>(memory, "swap", "linux.resources.memory");
  res.memory.swappiness = get_number<std::uint64_t>(memory, "swappiness", "linux.resources.memory");
  res.memory.disable_oom_killer = get_bool(memory, "disableOOMKiller", "linux.resources.memory");
  if (res.memory.swappiness && *res.memory.swappiness > 100)
    bad("linux.resources.memory.swappiness", "must be between 0 and 100");
  const Json& cpu = get_object(r, "cpu", "linux.resources");
  res.cpu.shares = get_number<std::uint64_t>(cpu, "shares", "linux.resources.cpu");
  res.cpu.quota = get_number<std::int64_t>(cpu, "quota", "linux.resources.cpu");
  res.cpu.period = get_number<std::uint64_t>(cpu, "period", "linux.resources.cpu");
  res.cpu.realtime_runtime = get_number<std::int64_t>(cpu, "realtimeRuntime", "linux.resources.cpu");
  res.cpu.realtime_period = get_number<std::uint64_t>(cpu, "realtimePeriod", "linux.resources.cpu");
  res.cpu.cpus = get_string(cpu, "cpus", "linux.resources.cpu");
  res.cpu.mems = get_string(cpu, "mems", "linux.resources.cpu");
  const Json& pids = get_object(r, "pids", "linux.resources");
  res.pids_limit = get_number<std::int64_t>(pids, "limit", "linux.resources.pids");
  const Json& blkio = get_object(r, "blockIO", "linux.resources");
  res.blkio_weight = get_number<std::uint16_t>(blkio, "weight", "linux.resources.blockIO");
  for (const auto& h : get_array(r, "hugepageLimits", "linux.resources")) {
    HugepageLimit limit;
    limit.page_size = get_string(h, "pageSize", "linux.resources.hugepageLimits");
    limit.limit = get_number<std::uint64_t>(h, "limit", "linux.resources.hugepageLimits").value_or(0);
    res.hugepage_limits.push_back(limit);
  }
  const Json& network = get_object(r, "network", "linux.resources");
  res.network_class_id = get_number<std::uint32_t>(network, "classID", "linux.resources.network");
  for (const auto& d : get_array(r, "devices", "linux.resources")) {
    DeviceRule rule;
    rule.allow = get_bool(d, "allow", "linux.resources.devices");
    std::string type = get_string(d, "type", "linux.resources.devices", "a");
    if (type != "a" && type != "c" && type != "b")
      bad("linux.resources.devices.type", fmt::format("\"{}\" is not a, c or b", type));
    rule.type = type[0];
    rule.major = get_number<std::int64_t>(d, "major", "linux.resources.devices");
    rule.minor = get_number<std::int64_t>(d, "minor", "linux.resources.devices");
    rule.access = get_string(d, "access", "linux.resources.devices", "rwm");
    if (rule.access.find_first_not_of("rwm") != std::string::npos)
      bad("linux.resources.devices.access", fmt::format("\"{}\" is not a combination of r, w and m", rule.access));
    res.devices.push_back(rule);
  }
  for (const auto& [key, value] : get_object(r, "unified", "linux.resources").items()) {
    if (!value.is_string()) bad("linux.resources.unified." + key, "expected a string");
    if (key.find('/') != std::string::npos || key.starts_with(".")) bad("linux.resources.unified", fmt::format("invalid file name \"{}\"", key));
    res.unified[key] = value.get<std::string>();
  }
  return res;
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

std::string to_string(NamespaceType type) {
  switch (type) {
    case NamespaceType::pid: return "pid";
    case NamespaceType::network: return "network";
    case NamespaceType::mount: return "mount";
    case NamespaceType::ipc: return "ipc";
    case NamespaceType::uts: return "uts";
    case NamespaceType::user: return "user";
    case NamespaceType::cgroup: return "cgroup";
    case NamespaceType::time: return "time";
  }
  return "?";
}

int clone_flag(NamespaceType type) {
  switch (type) {
    case NamespaceType::pid: return CLONE_NEWPID;
    case NamespaceType::network: return CLONE_NEWNET;
    case NamespaceType::mount: return CLONE_NEWNS;
    case NamespaceType::ipc: return CLONE_NEWIPC;
    case NamespaceType::uts: return CLONE_NEWUTS;
    case NamespaceType::user: return CLONE_NEWUSER;
    case NamespaceType::cgroup: return CLONE_NEWCGROUP;
    case NamespaceType::time: return CLONE_NEWTIME;
  }
  return 0;
}

const char* proc_ns_name(NamespaceType type) {
  switch (type) {
    case NamespaceType::pid: return "pid";
    case NamespaceType::network: return "net";
    case NamespaceType::mount: return "mnt";
    case NamespaceType::ipc: return "ipc";
    case NamespaceType::uts: return "uts";
    case NamespaceType::user: return "user";
    case NamespaceType::cgroup: return "cgroup";
    case NamespaceType::time: return "time";
  }
  return "";
}

const NamespaceSpec* LinuxSpec::find_namespace(NamespaceType type) const {
  for (const auto& ns : namespaces)
    if (ns.type == type) return &ns;
  return nullptr;
}

bool Resources::empty_limits() const {
  return !memory.limit && !memory.reservation && !memory.swap && !memory.swappiness && !memory.disable_oom_killer &&
         !cpu.shares && !cpu.quota && !cpu.period && !cpu.realtime_runtime && !cpu.realtime_period &&
         cpu.cpus.empty() && cpu.mems.empty() && !pids_limit && !blkio_weight && hugepage_limits.empty() &&
         !network_class_id && devices.empty() && unified.empty();
}

std::optional<int> capability_from_name(std::string_view name) {
  std::string key = lower(name);
  if (!key.starts_with("cap_")) key = "cap_" + key;
  cap_value_t value;
  if (::cap_from_name(key.c_str(), &value) != 0) return std::nullopt;
  return static_cast<int>(value);
}

std::string capability_name(int cap) {
  char* text = ::cap_to_name(static_cast<cap_value_t>(cap));
  std::string name = text ? text : fmt::format("{}", cap);
  if (text) ::cap_free(text);
  for (auto& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return name;
}

std::vector<std::string> capability_names(std::uint64_t mask) {
  std::vector<std::string> names;
  for (int cap = 0; cap < 64; ++cap)
    if (mask & (std::uint64_t{1} << cap)) names.push_back(capability_name(cap));
  return names;
}

int last_capability() {
  static const int last = [] {
    auto text = read_file_if_exists("/proc/sys/kernel/cap_last_cap");
    if (text) {
      try {
        return std::stoi(*text);
      } catch (...) {
      }
    }
    return static_cast<int>(CAP_LAST_CAP);
  }();
  return last;
}

std::optional<int> rlimit_from_name(std::string_view name) {
  static const std::pair<const char*, int> table[] = {
      {"RLIMIT_AS", RLIMIT_AS},           {"RLIMIT_CORE", RLIMIT_CORE},
      {"RLIMIT_CPU", RLIMIT_CPU},         {"RLIMIT_DATA", RLIMIT_DATA},
      {"RLIMIT_FSIZE", RLIMIT_FSIZE},     {"RLIMIT_LOCKS", RLIMIT_LOCKS},
      {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK}, {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
      {"RLIMIT_NICE", RLIMIT_NICE},       {"RLIMIT_NOFILE", RLIMIT_NOFILE},
      {"RLIMIT_NPROC", RLIMIT_NPROC},     {"RLIMIT_RSS", RLIMIT_RSS},
      {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},   {"RLIMIT_RTTIME", RLIMIT_RTTIME},
      {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING}, {"RLIMIT_STACK", RLIMIT_STACK},
  };
  for (const auto& [n, v] : table)
    if (name == n) return v;
  return std::nullopt;
}

ProcessSpec parse_process(const Json& p) {
  if (!p.is_object()) bad("process", "expected an object");
  ProcessSpec process;
  process.terminal = get_bool(p, "terminal", "process");
  const Json& size = get_object(p, "consoleSize", "process");
  if (!size.empty()) {
    process.console_size = std::pair{get_number<unsigned>(size, "height", "process.consoleSize").value_or(0),
                                     get_number<unsigned>(size, "width", "process.consoleSize").value_or(0)};
  }
  const Json& user = get_object(p, "user", "process");
  process.user.uid = get_number<uid_t>(user, "uid", "process.user").value_or(0);
  process.user.gid = get_number<gid_t>(user, "gid", "process.user").value_or(0);
  if (auto umask = get_number<std::uint32_t>(user, "umask", "process.user")) {
    if (*umask > 0777) bad("process.user.umask", "must be at most 0777");
    process.user.umask = static_cast<mode_t>(*umask);
  }
  if (const Json* gids = member(user, "additionalGids")) {
    if (!gids->is_array()) bad("process.user.additionalGids", "expected an array of integers");
    for (const auto& g : *gids) {
      if (!g.is_number_unsigned()) bad("process.user.additionalGids", "expected an array of integers");
      process.user.additional_gids.push_back(g.get<gid_t>());
    }
  }
  process.args = get_strings(p, "args", "process");
  process.env = get_strings(p, "env", "process");
  for (const auto& e : process.env)
    if (e.find('=') == std::string::npos) bad("process.env", fmt::format("\"{}\" is not KEY=VALUE", e));
  process.cwd = get_string(p, "cwd", "process", "/");
  if (process.cwd.empty() || process.cwd[0] != '/') bad("process.cwd", fmt::format("\"{}\" is not an absolute path", process.cwd));
  if (const Json* caps = member(p, "capabilities")) {
    if (!caps->is_object()) bad("process.capabilities", "expected an object");
    CapabilitySets sets;
    sets.bounding = capability_mask(*caps, "bounding");
    sets.effective = capability_mask(*caps, "effective");
    sets.inheritable = capability_mask(*caps, "inheritable");
    sets.permitted = capability_mask(*caps, "permitted");
    sets.ambient = capability_mask(*caps, "ambient");
    process.capabilities = sets;
  }
  for (const auto& r : get_array(p, "rlimits", "process")) {
    Rlimit limit;
    limit.name = get_string(r, "type", "process.rlimits");
    auto resource = rlimit_from_name(limit.name);
    if (!resource) bad("process.rlimits", fmt::format("unknown rlimit type \"{}\"", limit.name));
    for (const auto& existing : process.rlimits)
      if (existing.resource == *resource) bad("process.rlimits", fmt::format("{} given twice", limit.name));
    limit.resource = *resource;
    limit.soft = get_number<std::uint64_t>(r, "soft", "process.rlimits").value_or(0);
    limit.hard = get_number<std::uint64_t>(r, "hard", "process.rlimits").value_or(0);
    if (limit.soft > limit.hard) bad("process.rlimits", fmt::format("{}: soft limit {} above hard limit {}", limit.name, limit.soft, limit.hard));
    process.rlimits.push_back(limit);
  }
  process.no_new_privileges = get_bool(p, "noNewPrivileges", "process");
  process.oom_score_adj = get_number<int>(p, "oomScoreAdj", "process");
  if (process.oom_score_adj && (*process.oom_score_adj < -1000 || *process.oom_score_adj > 1000))
    bad("process.oomScoreAdj", "must be between -1000 and 1000");
  process.apparmor_profile = get_string(p, "apparmorProfile", "process");
  process.selinux_label = get_string(p, "selinuxLabel", "process");
  return process;
}

Spec parse_spec(const Json& config, const fs::path& bundle) {
  if (!config.is_object()) bad("(document)", "expected a JSON object");
  Spec spec;
  spec.oci_version = get_string(config, "ociVersion", "");
  if (spec.oci_version.empty()) bad("ociVersion", "missing");
  if (!spec.oci_version.starts_with("1.")) bad("ociVersion", fmt::format("version {} is not supported (1.x only)", spec.oci_version));
  if (const Json* p = member(config, "process")) spec.process = parse_process(*p);

  const Json& root = get_object(config, "root", "");
  std::string root_path = get_string(root, "path", "root");
  if (root_path.empty()) bad("root.path", "missing");
  spec.root_path = fs::path(root_path).is_absolute() ? fs::path(root_path) : fs::absolute(bundle) / root_path;
  spec.root_path = spec.root_path.lexically_normal();
  spec.root_readonly = get_bool(root, "readonly", "root");

  spec.hostname = get_string(config, "hostname", "");
  spec.domainname = get_string(config, "domainname", "");

  for (const auto& m : get_array(config, "mounts", "")) {
    if (!m.is_object()) bad("mounts", "expected mount objects");
    MountSpec mount;
    mount.destination = get_string(m, "destination", "mounts");
    if (mount.destination.empty() || mount.destination[0] != '/')
      bad("mounts.destination", fmt::format("\"{}\" is not an absolute path", mount.destination));
    mount.type = get_string(m, "type", "mounts");
    mount.source = get_string(m, "source", "mounts");
    mount.options = get_strings(m, "options", "mounts");
    bool is_bind = mount.type == "bind" ||
                   std::any_of(mount.options.begin(), mount.options.end(), [](const auto& o) { return o == "bind" || o == "rbind"; });
    if (is_bind && !mount.source.empty() && mount.source[0] != '/') mount.source = (fs::absolute(bundle) / mount.source).string();
    spec.mounts.push_back(std::move(mount));
  }

  const Json& hooks = get_object(config, "hooks", "");
  spec.hooks.prestart = parse_hooks(hooks, "prestart");
  spec.hooks.create_runtime = parse_hooks(hooks, "createRuntime");
  spec.hooks.create_container = parse_hooks(hooks, "createContainer");
  spec.hooks.start_container = parse_hooks(hooks, "startContainer");
  spec.hooks.poststart = parse_hooks(hooks, "poststart");
  spec.hooks.poststop = parse_hooks(hooks, "poststop");

  for (const auto& [key, value] : get_object(config, "annotations", "").items()) {
    if (!value.is_string()) bad("annotations." + key, "expected a string");
    spec.annotations[key] = value.get<std::string>();
  }

  const Json& linux = get_object(config, "linux", "");
  for (const auto& n : get_array(linux, "namespaces", "linux")) {
    std::string type = get_string(n, "type", "linux.namespaces");
    auto t = namespace_from_name(type);
    if (!t) bad("linux.namespaces", fmt::format("unknown namespace type \"{}\"", type));
    if (spec.linux.has_namespace(*t)) bad("linux.namespaces", fmt::format("namespace \"{}\" listed twice", type));
    std::string path = get_string(n, "path", "linux.namespaces");
    if (!path.empty() && path[0] != '/') bad("linux.namespaces.path", fmt::format("\"{}\" is not an absolute path", path));
    spec.linux.namespaces.push_back({*t, path});
  }
  spec.linux.uid_mappings = parse_mappings(get_array(linux, "uidMappings", "linux"), "linux.uidMappings");
  spec.linux.gid_mappings = parse_mappings(get_array(linux, "gidMappings", "linux"), "linux.gidMappings");
  if (!spec.linux.uid_mappings.empty() && !spec.linux.has_namespace(NamespaceType::user))
    bad("linux.uidMappings", "given without a user namespace");
  for (const auto& [key, value] : get_object(linux, "sysctl", "linux").items()) {
    if (!value.is_string()) bad("linux.sysctl." + key, "expected a string");
    if (key.find("..") != std::string::npos || key.find('/') == 0) bad("linux.sysctl", fmt::format("invalid key \"{}\"", key));
    spec.linux.sysctl[key] = value.get<std::string>();
  }
  if (const Json* r = member(linux, "resources")) {
    if (!r->is_object()) bad("linux.resources", "expected an object");
    spec.linux.resources = parse_resources(*r);
  }
  spec.linux.cgroups_path = get_string(linux, "cgroupsPath", "linux");
  for (const auto& d : get_array(linux, "devices", "linux")) {
    DeviceSpec device;
    std::string type = get_string(d, "type", "linux.devices");
    if (type != "c" && type != "b" && type != "u" && type != "p")
      bad("linux.devices.type", fmt::format("\"{}\" is not c, b, u or p", type));
    device.type = type[0];
    device.path = get_string(d, "path", "linux.devices");
    if (device.path.empty() || device.path[0] != '/') bad("linux.devices.path", fmt::format("\"{}\" is not an absolute path", device.path));
    device.major = get_number<std::int64_t>(d, "major", "linux.devices").value_or(0);
    device.minor = get_number<std::int64_t>(d, "minor", "linux.devices").value_or(0);
    if (auto mode = get_number<std::uint32_t>(d, "fileMode", "linux.devices")) device.file_mode = static_cast<mode_t>(*mode);
    device.uid = get_number<uid_t>(d, "uid", "linux.devices");
    device.gid = get_number<gid_t>(d, "gid", "linux.devices");
    spec.linux.devices.push_back(device);
  }
  if (const Json* s = member(linux, "seccomp")) {
    if (!s->is_object()) bad("linux.seccomp", "expected an object");
    validate_seccomp(*s);
    spec.linux.seccomp = *s;
  }
  spec.linux.rootfs_propagation = get_string(linux, "rootfsPropagation", "linux");
  static const char* propagations[] = {"", "shared", "slave", "private", "unbindable", "rshared", "rslave", "rprivate", "runbindable"};
  if (std::find(std::begin(propagations), std::end(propagations), spec.linux.rootfs_propagation) == std::end(propagations))
    bad("linux.rootfsPropagation", fmt::format("\"{}\" is not a propagation mode", spec.linux.rootfs_propagation));
  spec.linux.masked_paths = get_strings(linux, "maskedPaths", "linux");
  spec.linux.readonly_paths = get_strings(linux, "readonlyPaths", "linux");
  for (const auto* list : {&spec.linux.masked_paths, &spec.linux.readonly_paths})
    for (const auto& p : *list)
      if (p.empty() || p[0] != '/') bad("linux.maskedPaths/readonlyPaths", fmt::format("\"{}\" is not an absolute path", p));
  spec.linux.mount_label = get_string(linux, "mountLabel", "linux");
  const Json& personality = get_object(linux, "personality", "linux");
  if (!personality.empty()) {
    std::string domain = get_string(personality, "domain", "linux.personality");
    if (domain == "LINUX") spec.linux.personality = PER_LINUX;
    else if (domain == "LINUX32") spec.linux.personality = PER_LINUX32;
    else bad("linux.personality.domain", fmt::format("\"{}\" is not LINUX or LINUX32", domain));
  }
  return spec;
}

Json load_config(const fs::path& bundle) {
  auto path = bundle / "config.json";
  auto text = read_file_if_exists(path);
  if (!text) fail(ErrorKind::not_found, "{}: no such file: the bundle needs a config.json (`skiff runtime spec` writes one)", path.string());
  return parse_json(*text, path.string());
}

const std::vector<std::string>& default_capabilities() {
  static const std::vector<std::string> caps = {
      "CAP_CHOWN",  "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",      "CAP_NET_BIND_SERVICE",
      "CAP_SETFCAP", "CAP_SETGID",      "CAP_SETPCAP", "CAP_SETUID", "CAP_SYS_CHROOT"};
  return caps;
}

const std::vector<std::string>& default_masked_paths() {
  static const std::vector<std::string> paths = {
      "/proc/acpi",        "/proc/kcore",       "/proc/keys",       "/proc/latency_stats",
      "/proc/timer_list",  "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
      "/sys/firmware",     "/sys/fs/selinux",   "/sys/dev/block",   "/sys/devices/virtual/powercap"};
  return paths;
}

const std::vector<std::string>& default_readonly_paths() {
  static const std::vector<std::string> paths = {"/proc/asound", "/proc/bus", "/proc/fs",
                                                 "/proc/irq",    "/proc/sys", "/proc/sysrq-trigger"};
  return paths;
}

Json default_spec() {
  const auto& caps = default_capabilities();
  Json mount_list = Json::array({
      {{"destination", "/proc"}, {"type", "proc"}, {"source", "proc"}, {"options", {"nosuid", "noexec", "nodev"}}},
      {{"destination", "/dev"}, {"type", "tmpfs"}, {"source", "tmpfs"}, {"options", {"nosuid", "strictatime", "mode=755", "size=65536k"}}},
      {{"destination", "/dev/pts"}, {"type", "devpts"}, {"source", "devpts"},
       {"options", {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}}},
      {{"destination", "/dev/shm"}, {"type", "tmpfs"}, {"source", "shm"}, {"options", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}}},
      {{"destination", "/dev/mqueue"}, {"type", "mqueue"}, {"source", "mqueue"}, {"options", {"nosuid", "noexec", "nodev"}}},
      {{"destination", "/sys"}, {"type", "sysfs"}, {"source", "sysfs"}, {"options", {"nosuid", "noexec", "nodev", "ro"}}},
      {{"destination", "/sys/fs/cgroup"}, {"type", "cgroup"}, {"source", "cgroup"}, {"options", {"nosuid", "noexec", "nodev", "relatime", "ro"}}},
  });
  Json config = {
      {"ociVersion", oci_version},
      {"process",
       {{"terminal", true},
        {"user", {{"uid", 0}, {"gid", 0}}},
        {"args", {"sh"}},
        {"env", {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"}},
        {"cwd", "/"},
        {"capabilities", {{"bounding", caps}, {"effective", caps}, {"permitted", caps}}},
        {"rlimits", {{{"type", "RLIMIT_NOFILE"}, {"hard", 1024}, {"soft", 1024}}}},
        {"noNewPrivileges", true}}},
      {"root", {{"path", "rootfs"}, {"readonly", false}}},
      {"hostname", "skiff"},
      {"mounts", mount_list},
      {"linux",
       {{"resources", {{"devices", {{{"allow", false}, {"access", "rwm"}}}}}},
        {"namespaces", {{{"type", "pid"}}, {{"type", "network"}}, {{"type", "ipc"}}, {{"type", "uts"}}, {{"type", "mount"}}, {{"type", "cgroup"}}}},
        {"maskedPaths", default_masked_paths()},
        {"readonlyPaths", default_readonly_paths()},
        {"seccomp", default_seccomp_profile(caps)}}},
  };
  return config;
}

}  // namespace skiff::runtime
