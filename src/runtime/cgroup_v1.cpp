// cgroup v1: one directory per hierarchy (cpu, memory, pids, …), the
// process written into each; limits go to the hierarchy that carries the
// controller.
#include <signal.h>

#include <algorithm>

#include "core/error.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/strings.h"
#include "runtime/cgroup_impl.h"

namespace skiff::runtime {

namespace {

std::string device_rule(char type, std::optional<std::int64_t> major, std::optional<std::int64_t> minor,
                        const std::string& access) {
  auto number = [](std::optional<std::int64_t> n) { return n && *n >= 0 ? std::to_string(*n) : std::string("*"); };
  return fmt::format("{} {}:{} {}", type, number(major), number(minor), access);
}

}  // namespace

const std::vector<DeviceRule>& default_device_rules() {
  static const std::vector<DeviceRule> rules = {
      {true, 'c', std::nullopt, std::nullopt, "m"}, {true, 'b', std::nullopt, std::nullopt, "m"},
      {true, 'c', 1, 3, "rwm"},   // null
      {true, 'c', 1, 5, "rwm"},   // zero
      {true, 'c', 1, 7, "rwm"},   // full
      {true, 'c', 1, 8, "rwm"},   // random
      {true, 'c', 1, 9, "rwm"},   // urandom
      {true, 'c', 5, 0, "rwm"},   // tty
      {true, 'c', 5, 1, "rwm"},   // console
      {true, 'c', 5, 2, "rwm"},   // ptmx
      {true, 'c', 136, std::nullopt, "rwm"},  // pts/*
  };
  return rules;
}

CgroupV1::CgroupV1(std::vector<Hierarchy> hierarchies) : hierarchies_(std::move(hierarchies)) {}

CgroupV1 CgroupV1::for_container(const std::vector<CgroupMount>& mounts, const std::string& cgroups_path) {
  std::vector<Hierarchy> hierarchies;
  for (const auto& m : mounts) {
    if (m.fstype != "cgroup") continue;
    hierarchies.push_back({m.mount_point, m.controllers, resolve_cgroup_dir(m, cgroups_path)});
  }
  if (hierarchies.empty()) fail(ErrorKind::unavailable, "cgroup v1: no hierarchy is mounted under /sys/fs/cgroup");
  return CgroupV1(std::move(hierarchies));
}

const CgroupV1::Hierarchy* CgroupV1::find(std::string_view controller) const {
  for (const auto& h : hierarchies_)
    if (std::find(h.controllers.begin(), h.controllers.end(), controller) != h.controllers.end()) return &h;
  return nullptr;
}

const fs::path& CgroupV1::need(std::string_view controller, std::string_view what) const {
  const auto* h = find(controller);
  if (!h)
    fail(ErrorKind::unavailable, "cgroup v1: {} needs the {} controller, which is not mounted under /sys/fs/cgroup",
         what, controller);
  return h->dir;
}

void CgroupV1::create(const Resources* resources) {
  for (auto& h : hierarchies_) {
    auto created = cgroup_files::make_dirs(h.dir);
    created_.insert(created_.end(), created.begin(), created.end());
    if (std::find(h.controllers.begin(), h.controllers.end(), "cpuset") != h.controllers.end()) {
      // A new cpuset cgroup starts with no cpus or memory nodes: inherit them.
      for (const auto& dir : created) {
        for (const char* file : {"cpuset.cpus", "cpuset.mems"}) {
          auto current = cgroup_files::read(dir, file);
          if (current && trim(*current).empty()) {
            auto parent = cgroup_files::read(dir.parent_path(), file);
            if (parent && !trim(*parent).empty()) cgroup_files::write(dir, file, trim(*parent));
          }
        }
      }
    }
  }
  if (resources) apply(*resources);
}

void CgroupV1::apply(const Resources& r) {
  const auto& m = r.memory;
  if (m.limit || m.swap || m.reservation || m.swappiness || m.disable_oom_killer) {
    const auto& dir = need("memory", "a memory limit");
    if (m.limit) cgroup_files::write(dir, "memory.limit_in_bytes", std::to_string(*m.limit));
    if (m.swap) {
      if (cgroup_files::read(dir, "memory.memsw.limit_in_bytes"))
        cgroup_files::write(dir, "memory.memsw.limit_in_bytes", std::to_string(*m.swap));
      else
        log::debug("cgroup v1: swap accounting is off in this kernel; linux.resources.memory.swap ignored");
    }
    if (m.reservation) cgroup_files::write(dir, "memory.soft_limit_in_bytes", std::to_string(*m.reservation));
    if (m.swappiness) cgroup_files::write(dir, "memory.swappiness", std::to_string(*m.swappiness));
    if (m.disable_oom_killer) cgroup_files::write(dir, "memory.oom_control", "1");
  }
  const auto& c = r.cpu;
  if (c.shares || c.quota || c.period) {
    const auto& dir = need("cpu", "a cpu limit");
    if (c.shares) cgroup_files::write(dir, "cpu.shares", std::to_string(*c.shares));
    if (c.period) cgroup_files::write(dir, "cpu.cfs_period_us", std::to_string(*c.period));
    if (c.quota) cgroup_files::write(dir, "cpu.cfs_quota_us", std::to_string(*c.quota > 0 ? *c.quota : -1));
  }
  if (c.realtime_period || c.realtime_runtime) {
    const auto& dir = need("cpu", "a realtime cpu limit");
    if (c.realtime_period) cgroup_files::write(dir, "cpu.rt_period_us", std::to_string(*c.realtime_period));
    if (c.realtime_runtime) cgroup_files::write(dir, "cpu.rt_runtime_us", std::to_string(*c.realtime_runtime));
  }
  if (!c.cpus.empty()) cgroup_files::write(need("cpuset", "a cpuset"), "cpuset.cpus", c.cpus);
  if (!c.mems.empty()) cgroup_files::write(need("cpuset", "a cpuset"), "cpuset.mems", c.mems);
  if (r.pids_limit)
    cgroup_files::write(need("pids", "a pids limit"), "pids.max", *r.pids_limit > 0 ? std::to_string(*r.pids_limit) : "max");
  if (r.blkio_weight) {
    const auto& dir = need("blkio", "a block IO weight");
    const char* file = cgroup_files::read(dir, "blkio.weight") ? "blkio.weight" : "blkio.bfq.weight";
    cgroup_files::write(dir, file, std::to_string(*r.blkio_weight));
  }
  for (const auto& h : r.hugepage_limits) {
    auto file = fmt::format("hugetlb.{}.limit_in_bytes", h.page_size);
    cgroup_files::write(need("hugetlb", "a hugepage limit"), file.c_str(), std::to_string(h.limit));
  }
  if (r.network_class_id)
    cgroup_files::write(need("net_cls", "a network class id"), "net_cls.classid", std::to_string(*r.network_class_id));
  if (!r.devices.empty()) {
    if (const auto* h = find("devices")) {
      for (const auto* list : {&r.devices, &default_device_rules()}) {
        for (const auto& rule : *list) {
          std::string text = rule.type == 'a' ? "a" : device_rule(rule.type, rule.major, rule.minor, rule.access);
          cgroup_files::write(h->dir, rule.allow ? "devices.allow" : "devices.deny", text);
        }
      }
    } else {
      log::debug("cgroup v1: no devices hierarchy; device rules not applied");
    }
  }
  if (!r.unified.empty())
    fail(ErrorKind::unsupported, "config.json: linux.resources.unified needs cgroup v2; this host uses cgroup v1 for {}",
         r.unified.begin()->first);
}

void CgroupV1::enter(pid_t pid, bool) {
  auto text = std::to_string(pid);
  for (const auto& h : hierarchies_) cgroup_files::write(h.dir, "cgroup.procs", text);
}

std::vector<pid_t> CgroupV1::pids() const { return cgroup_files::read_pids(main_dir()); }

fs::path CgroupV1::main_dir() const {
  for (const char* controller : {"pids", "memory", "cpu", "freezer"})
    if (const auto* h = find(controller)) return h->dir;
  return hierarchies_.front().dir;
}

bool CgroupV1::oom_killed(int exit_signal) const {
  const auto* h = find("memory");
  if (!h) return false;
  if (auto kills = cgroup_files::read_key(h->dir, "memory.oom_control", "oom_kill")) return *kills > 0;
  auto failures = cgroup_files::read(h->dir, "memory.failcnt");
  return exit_signal == SIGKILL && failures && trim(*failures) != "0";
}

void CgroupV1::destroy() {
  std::string first_error;
  for (const auto& h : hierarchies_) {
    try {
      cgroup_files::remove_dir(h.dir);
    } catch (const Error& e) {
      if (first_error.empty()) first_error = e.what();
    }
  }
  if (!first_error.empty()) fail(ErrorKind::internal, "{}", first_error);
}

std::vector<CgroupMountSource> CgroupV1::mount_sources() const {
  std::vector<CgroupMountSource> out;
  for (const auto& h : hierarchies_) {
    std::string options = join(h.controllers, ",");
    if (h.controllers.size() == 1 && h.controllers[0].starts_with("name=")) options = "none," + options;
    out.push_back({h.mount_point.filename().string(), "cgroup", options, h.dir});
  }
  return out;
}

Json CgroupV1::to_json() const {
  Json hierarchies = Json::array();
  for (const auto& h : hierarchies_)
    hierarchies.push_back({{"mount", h.mount_point.string()}, {"controllers", h.controllers}, {"dir", h.dir.string()}});
  return {{"layout", "v1"}, {"hierarchies", hierarchies}};
}

CgroupV1 CgroupV1::from_json(const Json& saved) {
  std::vector<Hierarchy> hierarchies;
  for (const auto& h : saved.at("hierarchies"))
    hierarchies.push_back({h.at("mount").get<std::string>(), h.at("controllers").get<std::vector<std::string>>(),
                           h.at("dir").get<std::string>()});
  return CgroupV1(std::move(hierarchies));
}

}  // namespace skiff::runtime
