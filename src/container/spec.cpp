#include "container/spec.h"

#include <algorithm>
#include <set>

#include "core/error.h"
#include "core/fs.h"
#include "core/humanize.h"
#include "core/strings.h"

namespace skiff::container {

namespace {

void apply_capabilities(Json& process, const RunOptions& options) {
  if (options.cap_add.empty() && options.cap_drop.empty()) return;
  auto& caps = process["capabilities"];
  std::set<std::string> current;
  if (caps.contains("bounding"))
    for (const auto& c : caps["bounding"]) current.insert(c.get<std::string>());
  static const char* all[] = {
      "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_SETGID",
      "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
      "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO",
      "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
      "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE",
      "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
      "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE"};
  // docker applies drops first, then adds, so "--cap-drop ALL --cap-add X" keeps X.
  for (const auto& name : options.cap_drop) {
    auto cap = normalize_capability(name);
    if (cap == "ALL") current.clear();
    else current.erase(cap);
  }
  for (const auto& name : options.cap_add) {
    auto cap = normalize_capability(name);
    if (cap == "ALL") current.insert(std::begin(all), std::end(all));
    else current.insert(cap);
  }
  Json list = current;
  for (const char* set : {"bounding", "effective", "permitted"}) caps[set] = list;
  // Capabilities reach a non-root process only through the ambient set.
  if (process["user"].value("uid", 0) != 0) caps["ambient"] = list;
}

void apply_security_options(Json& spec, const RunOptions& options) {
  for (const auto& opt : options.security_opts) {
    if (opt == "no-new-privileges" || opt == "no-new-privileges:true" || opt == "no-new-privileges=true") {
      spec["process"]["noNewPrivileges"] = true;
    } else if (opt == "no-new-privileges:false" || opt == "no-new-privileges=false") {
      spec["process"]["noNewPrivileges"] = false;
    } else if (opt.starts_with("seccomp=") || opt.starts_with("seccomp:")) {
      std::string value = opt.substr(8);
      if (value == "unconfined") {
        spec["linux"].erase("seccomp");
        continue;
      }
      auto text = read_file_if_exists(value);
      if (!text) fail(ErrorKind::not_found, "--security-opt {}: no such seccomp profile file", opt);
      Json profile;
      try {
        profile = Json::parse(*text);
      } catch (const Json::exception&) {
        fail(ErrorKind::invalid_argument, "--security-opt {}: {} is not valid JSON", opt, value);
      }
      if (!profile.is_object() || !profile.contains("defaultAction"))
        fail(ErrorKind::invalid_argument, "--security-opt {}: {} has no defaultAction; give an OCI seccomp profile", opt,
             value);
      // docker's profile format names architectures in an archMap.
      if (profile.contains("archMap") && !profile.contains("architectures")) {
        Json architectures = Json::array();
        for (const auto& entry : profile["archMap"]) {
          architectures.push_back(entry.value("architecture", ""));
          for (const auto& sub : entry.value("subArchitectures", Json::array())) architectures.push_back(sub);
        }
        profile["architectures"] = architectures;
        profile.erase("archMap");
      }
      spec["linux"]["seccomp"] = profile;
    } else if (opt.starts_with("label") || opt.starts_with("apparmor")) {
      // Neither SELinux nor AppArmor is configured by skiff: accepted as podman does on hosts without them.
    } else {
      fail(ErrorKind::invalid_argument,
           "unknown --security-opt \"{}\": use seccomp=unconfined, seccomp=FILE or no-new-privileges", opt);
    }
  }
}

void add_mount(Json& spec, const std::string& destination, const std::string& type, const std::string& source,
               Json options) {
  auto& mounts = spec["mounts"];
  // A user mount replaces a default one at the same place (e.g. --tmpfs /dev/shm).
  mounts.erase(std::remove_if(mounts.begin(), mounts.end(),
                              [&](const Json& m) { return m.value("destination", "") == destination; }),
               mounts.end());
  mounts.push_back({{"destination", destination}, {"type", type}, {"source", source}, {"options", std::move(options)}});
}

}  // namespace

std::string resolve_workdir(const Json& image_config, const RunOptions& options) {
  std::string cwd = options.workdir.value_or(image_config.value("WorkingDir", ""));
  if (cwd.empty()) cwd = "/";
  if (cwd.front() != '/')
    fail(ErrorKind::invalid_argument, "working directory \"{}\" must be an absolute path", cwd);
  return cwd;
}

void write_etc_files(const std::filesystem::path& etc_dir, const std::string& hostname, const std::string& network) {
  ensure_dir(etc_dir);
  write_file_atomic(etc_dir / "hostname", hostname + "\n", 0644, false);
  std::string hosts;
  if (network == "host") {
    hosts = read_file_if_exists("/etc/hosts").value_or("127.0.0.1\tlocalhost\n");
  } else {
    hosts = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\t" + hostname + "\n";
  }
  write_file_atomic(etc_dir / "hosts", hosts, 0644, false);
  std::string resolv = read_file_if_exists("/etc/resolv.conf").value_or("");
  // A resolver on the host's loopback is unreachable from another network namespace.
  if (network != "host" && (resolv.find("nameserver 127.") != std::string::npos || resolv.empty()))
    resolv = "nameserver 8.8.8.8\nnameserver 8.8.4.4\n";
  write_file_atomic(etc_dir / "resolv.conf", resolv, 0644, false);
}

Json make_runtime_spec(Json spec, const SpecInputs& in) {
  const RunOptions& options = in.options;
  Json& process = spec["process"];
  process["args"] = resolve_command(in.image_config, options);
  process["env"] = resolve_environment(in.image_config, options, in.hostname, in.user.home);
  process["cwd"] = resolve_workdir(in.image_config, options);
  process["terminal"] = options.tty;
  process["user"] = {{"uid", in.user.uid}, {"gid", in.user.gid}};
  if (!in.user.additional_gids.empty()) process["user"]["additionalGids"] = in.user.additional_gids;
  apply_capabilities(process, options);

  spec["root"] = {{"path", in.rootfs.string()}, {"readonly", options.read_only}};
  spec["hostname"] = in.hostname;

  Json& linux_section = spec["linux"];
  auto& namespaces = linux_section["namespaces"];
  if (options.network == "host") {
    namespaces.erase(std::remove_if(namespaces.begin(), namespaces.end(),
                                    [](const Json& n) { return n.value("type", "") == "network"; }),
                     namespaces.end());
  } else if (options.network != "none") {
    fail(ErrorKind::unsupported, "--network {}: only none and host are supported so far", options.network);
  }
  linux_section["cgroupsPath"] = in.cgroup_path;

  Json resources = linux_section.value("resources", Json::object());
  if (options.memory) {
    auto bytes = static_cast<std::int64_t>(parse_size(*options.memory));
    if (bytes < (6 << 20))
      fail(ErrorKind::invalid_argument, "--memory {}: the minimum is 6m (a smaller limit cannot start a process)",
           *options.memory);
    // As docker: without --memory-swap, swap is limited to the same amount again.
    resources["memory"] = {{"limit", bytes}, {"swap", bytes * 2}};
  }
  if (options.cpus) {
    auto quota = parse_cpus(*options.cpus);
    resources["cpu"] = {{"quota", quota.quota}, {"period", quota.period}};
  }
  if (options.pids_limit) resources["pids"] = {{"limit", *options.pids_limit}};
  if (!resources.empty()) linux_section["resources"] = resources;

  for (const char* file : {"hostname", "hosts", "resolv.conf"})
    add_mount(spec, std::string("/etc/") + file, "bind", (in.etc_dir / file).string(),
              {"rbind", "rprivate", "nosuid", "nodev", "noexec"});
  for (const auto& text : options.volumes) {
    auto volume = parse_volume(text);
    if (!std::filesystem::exists(volume.source))
      fail(ErrorKind::not_found, "-v {}: host path {} does not exist; create it first", text, volume.source);
    Json opts = {"rbind", "rprivate"};
    if (volume.read_only) opts.push_back("ro");
    add_mount(spec, volume.destination, "bind", volume.source, opts);
  }
  for (const auto& text : options.tmpfs) {
    auto tmpfs = parse_tmpfs(text);
    Json opts = {"nosuid", "nodev"};
    if (tmpfs.options.empty()) opts.push_back("mode=1777");
    else
      for (const auto& o : split(tmpfs.options, ',')) opts.push_back(o);
    add_mount(spec, tmpfs.destination, "tmpfs", "tmpfs", opts);
  }
  apply_security_options(spec, options);
  return spec;
}

}  // namespace skiff::container
