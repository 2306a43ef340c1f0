// cgroup v2: one directory in the unified hierarchy; controllers enabled
// down the path through cgroup.subtree_control; the process placed at
// clone time with CLONE_INTO_CGROUP.
#include <fcntl.h>

#include <algorithm>
#include <sstream>

#include "core/error.h"
#include "core/fs.h"
#include "core/log.h"
#include "core/strings.h"
#include "runtime/cgroup_impl.h"

namespace skiff::runtime {

namespace {

std::vector<std::string> words(const std::optional<std::string>& text) {
  std::vector<std::string> out;
  if (!text) return out;
  std::istringstream in(*text);
  std::string w;
  while (in >> w) out.push_back(w);
  return out;
}

bool contains(const std::vector<std::string>& list, std::string_view item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

// What a resources block needs from the hierarchy.
std::vector<std::pair<std::string, std::string>> needed_controllers(const Resources& r, bool membership_only) {
  std::vector<std::pair<std::string, std::string>> needed;  // controller, what asked for it
  if (!r.hugepage_limits.empty()) needed.push_back({"hugetlb", "a hugepage limit"});
  if (membership_only) return needed;
  if (r.memory.limit || r.memory.swap || r.memory.reservation) needed.push_back({"memory", "a memory limit"});
  if (r.cpu.shares || r.cpu.quota || r.cpu.period) needed.push_back({"cpu", "a cpu limit"});
  if (!r.cpu.cpus.empty() || !r.cpu.mems.empty()) needed.push_back({"cpuset", "a cpuset"});
  if (r.pids_limit) needed.push_back({"pids", "a pids limit"});
  if (r.blkio_weight) needed.push_back({"io", "a block IO weight"});
  for (const auto& [file, value] : r.unified) {
    auto dot = file.find('.');
    std::string controller = file.substr(0, dot);
    if (controller != "cgroup") needed.push_back({controller, "linux.resources.unified." + file});
  }
  return needed;
}

}  // namespace

CgroupV2::CgroupV2(fs::path mount_root, fs::path dir, bool membership_only)
    : mount_root_(std::move(mount_root)), dir_(std::move(dir)), membership_only_(membership_only) {}

CgroupV2 CgroupV2::from_json(const Json& saved) {
  return CgroupV2(saved.at("mount").get<std::string>(), saved.at("dir").get<std::string>(),
                  saved.value("membership_only", false));
}

std::vector<std::string> CgroupV2::available_controllers() const {
  return words(cgroup_files::read(mount_root_, "cgroup.controllers"));
}

void CgroupV2::enable_controllers(const std::vector<std::string>& controllers) {
  if (controllers.empty()) return;
  // Top-down: each level offers its children what its parent offered it.
  fs::path relative = dir_.lexically_relative(mount_root_);
  fs::path level = mount_root_;
  for (const auto& part : relative) {
    auto enabled = words(cgroup_files::read(level, "cgroup.subtree_control"));
    std::string missing;
    for (const auto& c : controllers)
      if (!contains(enabled, c)) missing += (missing.empty() ? "+" : " +") + c;
    if (!missing.empty()) {
      try {
        cgroup_files::write(level, "cgroup.subtree_control", missing);
      } catch (const Error& e) {
        fail(ErrorKind::unavailable,
             "cgroup v2: cannot enable {} below {}: {} (a cgroup holding processes cannot delegate controllers; "
             "use an absolute cgroupsPath)",
             missing, level.string(), e.what());
      }
    }
    level /= part;
  }
}

void CgroupV2::create(const Resources* resources) {
  std::vector<std::string> enable;
  if (resources) {
    auto available = available_controllers();
    for (const auto& [controller, why] : needed_controllers(*resources, membership_only_)) {
      if (!contains(available, controller))
        fail(ErrorKind::unavailable,
             "cgroup v2: {} needs the {} controller, which {} does not offer (it has: {}); on a hybrid host the "
             "controller is bound to its v1 hierarchy",
             why, controller, mount_root_.string(), available.empty() ? "none" : join(available, " "));
      if (!contains(enable, controller)) enable.push_back(controller);
    }
    // The memory controller also brings memory.events, where OOM kills are counted.
    if (!membership_only_ && contains(available, "memory") && !contains(enable, "memory")) enable.push_back("memory");
    if (!membership_only_ && contains(available, "pids") && !contains(enable, "pids")) enable.push_back("pids");
  }
  cgroup_files::make_dirs(dir_);
  enable_controllers(enable);
  if (resources) apply(*resources);
}

void CgroupV2::apply(const Resources& r) {
  for (const auto& h : r.hugepage_limits) {
    auto file = fmt::format("hugetlb.{}.max", h.page_size);
    cgroup_files::write(dir_, file.c_str(), std::to_string(h.limit));
  }
  if (membership_only_) return;
  const auto& m = r.memory;
  if (m.limit) cgroup_files::write(dir_, "memory.max", *m.limit > 0 ? std::to_string(*m.limit) : "max");
  if (m.swap) {
    // OCI's swap is memory+swap (the v1 meaning); v2 limits swap alone.
    std::string value = "max";
    if (*m.swap > 0) {
      if (!m.limit || *m.limit <= 0)
        fail(ErrorKind::invalid_argument, "config.json: linux.resources.memory.swap needs a memory limit on cgroup v2");
      if (*m.swap < *m.limit)
        fail(ErrorKind::invalid_argument, "config.json: linux.resources.memory.swap ({}) is below the memory limit ({})",
             *m.swap, *m.limit);
      value = std::to_string(*m.swap - *m.limit);
    }
    cgroup_files::write(dir_, "memory.swap.max", value);
  }
  if (m.reservation) cgroup_files::write(dir_, "memory.low", std::to_string(*m.reservation));
  if (m.swappiness) log::debug("cgroup v2 has no per-cgroup swappiness; linux.resources.memory.swappiness ignored");
  if (m.disable_oom_killer) log::debug("cgroup v2 cannot disable the OOM killer; disableOOMKiller ignored");
  const auto& c = r.cpu;
  if (c.shares) {
    std::uint64_t shares = std::clamp<std::uint64_t>(*c.shares, 2, 262144);
    cgroup_files::write(dir_, "cpu.weight", std::to_string(1 + ((shares - 2) * 9999) / 262142));
  }
  if (c.quota || c.period) {
    std::string quota = c.quota && *c.quota > 0 ? std::to_string(*c.quota) : "max";
    cgroup_files::write(dir_, "cpu.max", fmt::format("{} {}", quota, c.period.value_or(100000)));
  }
  if (!c.cpus.empty()) cgroup_files::write(dir_, "cpuset.cpus", c.cpus);
  if (!c.mems.empty()) cgroup_files::write(dir_, "cpuset.mems", c.mems);
  if (r.pids_limit) cgroup_files::write(dir_, "pids.max", *r.pids_limit > 0 ? std::to_string(*r.pids_limit) : "max");
  if (r.blkio_weight) {
    std::uint64_t weight = std::clamp<std::uint64_t>(*r.blkio_weight, 10, 1000);
    if (cgroup_files::read(dir_, "io.bfq.weight"))
      cgroup_files::write(dir_, "io.bfq.weight", std::to_string(weight));
    else
      cgroup_files::write(dir_, "io.weight", std::to_string(1 + (weight - 10) * 9999 / 990));
  }
  if (!r.devices.empty())
    log::debug("cgroup v2: device rules need an eBPF program, which skiff does not install; the capability set "
               "and the devices created in /dev bound device access");
  for (const auto& [file, value] : r.unified) cgroup_files::write(dir_, file.c_str(), value);
}

int CgroupV2::clone_into_fd() const {
  if (!dir_fd_) {
    dir_fd_.reset(::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir_fd_) fail_errno("cgroup: open " + dir_.string());
  }
  return dir_fd_.get();
}

void CgroupV2::enter(pid_t pid, bool placed_by_clone) {
  if (!placed_by_clone) cgroup_files::write(dir_, "cgroup.procs", std::to_string(pid));
}

std::vector<pid_t> CgroupV2::pids() const { return cgroup_files::read_pids(dir_); }

bool CgroupV2::oom_killed(int) const {
  auto kills = cgroup_files::read_key(dir_, "memory.events", "oom_kill");
  auto group_kills = cgroup_files::read_key(dir_, "memory.events", "oom_group_kill");
  return kills.value_or(0) > 0 || group_kills.value_or(0) > 0;
}

void CgroupV2::destroy() {
  dir_fd_.reset();
  cgroup_files::remove_dir(dir_);
}

std::vector<CgroupMountSource> CgroupV2::mount_sources() const {
  return {{membership_only_ ? "unified" : "", "cgroup2", "", dir_}};
}

Json CgroupV2::to_json() const {
  return {{"layout", "v2"}, {"mount", mount_root_.string()}, {"dir", dir_.string()}, {"membership_only", membership_only_}};
}

std::unique_ptr<Cgroup> make_cgroup_v2(const fs::path& mount_root, const fs::path& dir) {
  return std::make_unique<CgroupV2>(mount_root, dir);
}

}  // namespace skiff::runtime
