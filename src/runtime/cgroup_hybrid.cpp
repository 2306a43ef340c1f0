// Hybrid hosts: v1 hierarchies carry the controllers; the v2 "unified"
// mount (systemd's, here carrying hugetlb) also gets the process, as
// systemd does, so tools that look there find it. Limits go to v1, except
// those only v2 offers.
#include <algorithm>

#include "core/error.h"
#include "core/fs.h"
#include "runtime/cgroup_impl.h"

namespace skiff::runtime {

void CgroupHybrid::create(const Resources* resources) {
  if (!resources) {
    v1_.create(nullptr);
    unified_.create(nullptr);
    return;
  }
  // Hugepage limits go where the hugetlb controller is.
  Resources v1_part = *resources;
  Resources v2_part;
  if (!resources->hugepage_limits.empty() && !v1_.find("hugetlb")) {
    v2_part.hugepage_limits = resources->hugepage_limits;
    v1_part.hugepage_limits.clear();
  }
  v1_.create(&v1_part);
  unified_.create(&v2_part);
}

void CgroupHybrid::destroy() {
  std::string first_error;
  for (Cgroup* part : {static_cast<Cgroup*>(&v1_), static_cast<Cgroup*>(&unified_)}) {
    try {
      part->destroy();
    } catch (const Error& e) {
      if (first_error.empty()) first_error = e.what();
    }
  }
  if (!first_error.empty()) fail(ErrorKind::internal, "{}", first_error);
}

std::vector<CgroupMountSource> CgroupHybrid::mount_sources() const {
  auto sources = v1_.mount_sources();
  auto unified = unified_.mount_sources();
  sources.insert(sources.end(), unified.begin(), unified.end());
  return sources;
}

Json CgroupHybrid::to_json() const { return {{"layout", "hybrid"}, {"v1", v1_.to_json()}, {"unified", unified_.to_json()}}; }

std::unique_ptr<Cgroup> make_cgroup(const std::string& cgroups_path, const std::string& id) {
  if (cgroups_path.find(':') != std::string::npos)
    fail(ErrorKind::unsupported,
         "config.json: linux.cgroupsPath \"{}\" is a systemd slice path; skiff manages cgroupfs directly (give a "
         "path like /machine/{})",
         cgroups_path, id);
  std::string path = cgroups_path.empty() ? "skiff/" + id : cgroups_path;
  auto layout = cgroup_layout();
  if (layout == CgroupLayout::none)
    fail(ErrorKind::unavailable, "no cgroup filesystem is mounted at /sys/fs/cgroup: mount cgroup2 there (or the v1 hierarchies)");
  auto mounts = cgroup_mounts();
  auto unified = std::find_if(mounts.begin(), mounts.end(), [](const CgroupMount& m) { return m.fstype == "cgroup2"; });
  switch (layout) {
    case CgroupLayout::v2:
      if (unified == mounts.end()) fail(ErrorKind::unavailable, "cgroup v2: /sys/fs/cgroup is not in /proc/self/mountinfo");
      return std::make_unique<CgroupV2>(unified->mount_point, resolve_cgroup_dir(*unified, path));
    case CgroupLayout::hybrid:
      if (unified != mounts.end())
        return std::make_unique<CgroupHybrid>(CgroupV1::for_container(mounts, path),
                                              CgroupV2(unified->mount_point, resolve_cgroup_dir(*unified, path), true));
      [[fallthrough]];
    default:
      return std::make_unique<CgroupV1>(CgroupV1::for_container(mounts, path));
  }
}

std::unique_ptr<Cgroup> load_cgroup(const Json& saved) {
  auto layout = saved.value("layout", std::string());
  if (layout == "v1") return std::make_unique<CgroupV1>(CgroupV1::from_json(saved));
  if (layout == "v2") return std::make_unique<CgroupV2>(CgroupV2::from_json(saved));
  if (layout == "hybrid")
    return std::make_unique<CgroupHybrid>(CgroupV1::from_json(saved.at("v1")), CgroupV2::from_json(saved.at("unified")));
  fail(ErrorKind::corrupt, "container state: unknown cgroup layout \"{}\"", layout);
}

}  // namespace skiff::runtime
