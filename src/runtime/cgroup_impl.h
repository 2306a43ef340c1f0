// The three cgroup implementations behind runtime/cgroup.h.
#pragma once

#include <string_view>

#include "core/fd.h"
#include "runtime/cgroup.h"

namespace skiff::runtime {

// Rules every container gets with a device policy: mknod anywhere (the
// capability decides), and the standard devices skiff creates in /dev.
const std::vector<DeviceRule>& default_device_rules();

class CgroupV1 final : public Cgroup {
 public:
  struct Hierarchy {
    std::filesystem::path mount_point;
    std::vector<std::string> controllers;
    std::filesystem::path dir;
  };
  explicit CgroupV1(std::vector<Hierarchy> hierarchies);
  static CgroupV1 for_container(const std::vector<CgroupMount>& mounts, const std::string& cgroups_path);
  static CgroupV1 from_json(const Json& saved);

  CgroupLayout layout() const override { return CgroupLayout::v1; }
  void create(const Resources* resources) override;
  int clone_into_fd() const override { return -1; }
  void enter(pid_t pid, bool placed_by_clone) override;
  std::vector<pid_t> pids() const override;
  bool oom_killed(int exit_signal) const override;
  void destroy() override;
  std::vector<CgroupMountSource> mount_sources() const override;
  Json to_json() const override;
  std::filesystem::path main_dir() const override;

  const Hierarchy* find(std::string_view controller) const;
  void apply(const Resources& resources);

 private:
  const std::filesystem::path& need(std::string_view controller, std::string_view what) const;
  std::vector<Hierarchy> hierarchies_;
  std::vector<std::filesystem::path> created_;
};

class CgroupV2 final : public Cgroup {
 public:
  // `membership_only`: the hybrid layout's unified hierarchy, where the
  // process is placed but limits live in v1 (except what only v2 carries).
  CgroupV2(std::filesystem::path mount_root, std::filesystem::path dir, bool membership_only = false);
  static CgroupV2 from_json(const Json& saved);

  CgroupLayout layout() const override { return CgroupLayout::v2; }
  void create(const Resources* resources) override;
  int clone_into_fd() const override;
  void enter(pid_t pid, bool placed_by_clone) override;
  std::vector<pid_t> pids() const override;
  bool oom_killed(int exit_signal) const override;
  void destroy() override;
  std::vector<CgroupMountSource> mount_sources() const override;
  Json to_json() const override;
  std::filesystem::path main_dir() const override { return dir_; }

  // Controllers the hierarchy offers at its root.
  std::vector<std::string> available_controllers() const;
  void apply(const Resources& resources);
  void enable_controllers(const std::vector<std::string>& controllers);

 private:
  std::filesystem::path mount_root_, dir_;
  bool membership_only_ = false;
  mutable UniqueFd dir_fd_;
};

class CgroupHybrid final : public Cgroup {
 public:
  CgroupHybrid(CgroupV1 v1, CgroupV2 unified) : v1_(std::move(v1)), unified_(std::move(unified)) {}

  CgroupLayout layout() const override { return CgroupLayout::hybrid; }
  void create(const Resources* resources) override;
  int clone_into_fd() const override { return unified_.clone_into_fd(); }
  void enter(pid_t pid, bool placed_by_clone) override {
    v1_.enter(pid, false);
    if (!placed_by_clone) unified_.enter(pid, false);
  }
  std::vector<pid_t> pids() const override { return v1_.pids(); }
  bool oom_killed(int exit_signal) const override { return v1_.oom_killed(exit_signal); }
  void destroy() override;
  std::vector<CgroupMountSource> mount_sources() const override;
  Json to_json() const override;
  std::filesystem::path main_dir() const override { return v1_.main_dir(); }

 private:
  CgroupV1 v1_;
  CgroupV2 unified_;
};

}  // namespace skiff::runtime
