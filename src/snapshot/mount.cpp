#include "snapshot/mount.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstring>
#include <exception>
#include <thread>

#include "core/error.h"
#include "core/fd.h"
#include "core/log.h"
#include "core/strings.h"

namespace skiff::snapshot {

namespace fs = std::filesystem;

namespace {

// mount(2) copies at most one page of options.
size_t option_limit() { return static_cast<size_t>(::sysconf(_SC_PAGESIZE)) - 1; }

std::string joined_options(const std::vector<std::string>& options) { return join(options, ","); }

bool starts_with_lowerdir(const std::string& option) { return option.starts_with("lowerdir="); }

// overlayfs escapes ':' and ',' in paths with a backslash; our store paths
// have neither, and a path that does is refused rather than mis-parsed.
void check_overlay_path(const std::string& path) {
  if (path.find_first_of(":,\\") != std::string::npos)
    fail(ErrorKind::invalid_argument, "overlay layer path {} contains ':', ',' or '\\'", path);
}

bool has_flag(const std::vector<std::string>& options, const char* flag) {
  return std::find(options.begin(), options.end(), flag) != options.end();
}

// "ro" is a mount flag, not an overlayfs option.
std::string data_without_flags(const std::vector<std::string>& options) {
  std::vector<std::string> data;
  for (const auto& o : options)
    if (o != "ro" && o != "rw") data.push_back(o);
  return joined_options(data);
}

void mount_plain(const MountSpec& spec, const fs::path& target, const std::string& data) {
  unsigned long flags = has_flag(spec.options, "ro") ? MS_RDONLY : 0;
  if (::mount(spec.source.c_str(), target.c_str(), spec.type.c_str(), flags, data.c_str()) != 0)
    fail_errno(fmt::format("mount {} on {}", spec.type, target.string()));
}

void mount_lowerdir_plus(const MountSpec& spec, const fs::path& target) {
  UniqueFd context(::fsopen("overlay", FSOPEN_CLOEXEC));
  if (!context) fail_errno("fsopen overlay");
  auto set = [&](const std::string& key, const std::string& value) {
    if (::fsconfig(context.get(), FSCONFIG_SET_STRING, key.c_str(), value.c_str(), 0) != 0)
      fail_errno(fmt::format("overlay option {}={}", key, value));
  };
  set("source", spec.source);
  for (const auto& option : spec.options) {
    auto eq = option.find('=');
    if (starts_with_lowerdir(option)) {
      for (const auto& layer : spec.lower_dirs()) set("lowerdir+", layer);
    } else if (eq == std::string::npos) {
      if (option == "ro") continue;  // applied to the mount below
      if (::fsconfig(context.get(), FSCONFIG_SET_FLAG, option.c_str(), nullptr, 0) != 0)
        fail_errno("overlay option " + option);
    } else {
      set(option.substr(0, eq), option.substr(eq + 1));
    }
  }
  if (::fsconfig(context.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) != 0) fail_errno("create overlay");
  bool read_only = has_flag(spec.options, "ro");
  UniqueFd mount_fd(::fsmount(context.get(), FSMOUNT_CLOEXEC, read_only ? MOUNT_ATTR_RDONLY : 0));
  if (!mount_fd) fail_errno("fsmount overlay");
  if (::move_mount(mount_fd.get(), "", AT_FDCWD, target.c_str(), MOVE_MOUNT_F_EMPTY_PATH) != 0)
    fail_errno("move overlay mount to " + target.string());
}

fs::path common_parent(const std::vector<std::string>& paths) {
  fs::path common = fs::path(paths.front()).parent_path();
  for (const auto& p : paths) {
    while (!common.empty() && common != "/" &&
           !(p.size() > common.string().size() && p.starts_with(common.string()) && p[common.string().size()] == '/'))
      common = common.parent_path();
  }
  return common;
}

void mount_relative(const MountSpec& spec, const fs::path& target) {
  auto layers = spec.lower_dirs();
  std::vector<std::string> all = layers;
  for (const auto& option : spec.options)
    if (option.starts_with("upperdir=") || option.starts_with("workdir=")) all.push_back(option.substr(option.find('=') + 1));
  fs::path base = common_parent(all);
  auto relative = [&](const std::string& p) { return p.substr(base.string().size() + (base == "/" ? 0 : 1)); };
  std::vector<std::string> options;
  for (const auto& option : spec.options) {
    if (starts_with_lowerdir(option)) {
      std::vector<std::string> short_layers;
      for (const auto& l : layers) short_layers.push_back(relative(l));
      options.push_back("lowerdir=" + join(short_layers, ":"));
    } else if (option.starts_with("upperdir=") || option.starts_with("workdir=")) {
      auto eq = option.find('=');
      options.push_back(option.substr(0, eq + 1) + relative(option.substr(eq + 1)));
    } else {
      options.push_back(option);
    }
  }
  std::string data = data_without_flags(options);
  if (data.size() > option_limit())
    fail(ErrorKind::unsupported,
         "overlay with {} layers: even relative layer paths exceed the kernel's mount option limit; Linux >= 6.8 "
         "lifts it",
         layers.size());
  fs::path absolute_target = fs::absolute(target);
  // The working directory is per process; a thread that unshares its
  // filesystem context can chdir without disturbing the others.
  std::exception_ptr failure;
  std::thread worker([&] {
    try {
      if (::unshare(CLONE_FS) != 0) fail_errno("unshare(CLONE_FS)");
      if (::chdir(base.c_str()) != 0) fail_errno("chdir " + base.string());
      mount_plain(spec, absolute_target, data);
    } catch (...) {
      failure = std::current_exception();
    }
  });
  worker.join();
  if (failure) std::rethrow_exception(failure);
}

}  // namespace

std::vector<std::string> MountSpec::lower_dirs() const {
  for (const auto& option : options)
    if (starts_with_lowerdir(option)) return split(option.substr(9), ':');
  return {};
}

std::string MountSpec::str() const {
  return fmt::format("mount -t {} -o {} {}", type, joined_options(options), source);
}

bool overlay_supports_lowerdir_plus() {
  static const bool supported = [] {
    UniqueFd context(::fsopen("overlay", FSOPEN_CLOEXEC));
    if (!context) return false;
    // Linux < 6.8 rejects the key itself; a missing path is a later error.
    if (::fsconfig(context.get(), FSCONFIG_SET_STRING, "lowerdir+", "/nonexistent-skiff-probe", 0) == 0) return true;
    return errno != EINVAL;
  }();
  return supported;
}

Mount mount(const MountSpec& spec, const fs::path& target, OverlayMethod method) {
  if (spec.type == "bind") {
    bool read_only = has_flag(spec.options, "ro");
    if (::mount(spec.source.c_str(), target.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0)
      fail_errno(fmt::format("bind mount {} on {}", spec.source, target.string()));
    Mount handle(target);
    if (read_only && ::mount(nullptr, target.c_str(), nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY, nullptr) != 0)
      fail_errno("remount " + target.string() + " read-only");
    return handle;
  }
  if (spec.type != "overlay") fail(ErrorKind::unsupported, "mount type {} is not supported", spec.type);
  for (const auto& layer : spec.lower_dirs()) check_overlay_path(layer);
  std::string data = data_without_flags(spec.options);
  if (method == OverlayMethod::automatic) {
    if (data.size() <= option_limit()) method = OverlayMethod::plain;
    else if (overlay_supports_lowerdir_plus()) method = OverlayMethod::lowerdir_plus;
    else method = OverlayMethod::relative;
  }
  switch (method) {
    case OverlayMethod::plain:
      if (data.size() > option_limit())
        fail(ErrorKind::invalid_argument, "overlay options are {} bytes, over the {}-byte limit of mount(2)",
             data.size(), option_limit());
      mount_plain(spec, target, data);
      break;
    case OverlayMethod::lowerdir_plus: mount_lowerdir_plus(spec, target); break;
    case OverlayMethod::relative: mount_relative(spec, target); break;
    case OverlayMethod::automatic: break;
  }
  return Mount(target);
}

Mount& Mount::operator=(Mount&& other) noexcept {
  if (this != &other) {
    if (mounted()) {
      try {
        unmount();
      } catch (...) {
      }
    }
    target_ = std::move(other.target_);
    other.target_.clear();
  }
  return *this;
}

Mount::~Mount() {
  if (!mounted()) return;
  if (::umount2(target_.c_str(), UMOUNT_NOFOLLOW) == 0) return;
  if (errno == EINVAL || errno == ENOENT) return;  // already gone
  log::warn("unmount {}: {}; detaching it instead", target_.string(), std::strerror(errno));
  ::umount2(target_.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW);
}

void Mount::unmount() {
  if (!mounted()) return;
  fs::path target = std::exchange(target_, {});
  if (::umount2(target.c_str(), UMOUNT_NOFOLLOW) == 0) return;
  int error = errno;
  if (error == EBUSY && ::umount2(target.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW) == 0) {
    log::warn("unmount {}: busy; detached it", target.string());
    return;
  }
  fail_errno(error, "unmount " + target.string());
}

fs::path Mount::release() { return std::exchange(target_, {}); }

}  // namespace skiff::snapshot
