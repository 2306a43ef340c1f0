#include "engine/engine.h"

#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include "engine/engine_parts.h"
#include "container/monitor.h"
#include "container/mount_points.h"
#include "container/spec.h"
#include "container/user.h"
#include "core/error.h"
#include "core/fs.h"
#include "core/humanize.h"
#include "core/lock.h"
#include "core/log.h"
#include "image/platform.h"
#include "image/unpack.h"

namespace skiff::engine {

using namespace container;  // the records, specs and logs the engine drives

namespace {

// docker's default hostname: the first 12 characters of the ID.
std::string default_hostname(const Record& r) { return r.id.substr(0, 12); }

}  // namespace

Engine::Engine(Root& root, const Config& config)
    : parts_(std::make_unique<Parts>(root, config)), root_(root), config_(config), store_(root) {}

Engine::~Engine() = default;

const Isolation& Engine::isolation(const Record& record) const { return parts_->isolations.of(record); }

std::filesystem::path Engine::container_dir(const std::string& id) const { return root_.containers_dir() / id; }

std::filesystem::path Engine::log_path(const Record& record) const {
  return ContainerPaths{container_dir(record.id)}.log();
}

ImageRecord find_or_pull(Engine::Parts& parts, const RunOptions& options, const Config& config,
                                Progress* progress) {
  ReferencePolicy policy{config.default_registry};
  if (options.pull != "always") {
    try {
      return parts.images.resolve(options.image, policy);
    } catch (const Error& e) {
      if (e.kind() != ErrorKind::not_found || options.pull == "never") throw;
    }
  }
  if (looks_like_id_prefix(options.image) && options.image.size() >= 12)
    fail(ErrorKind::not_found, "no such image: {}", options.image);
  Reference reference = Reference::parse(options.image, policy);
  if (reference.local())
    fail(ErrorKind::not_found,
         "image {} is not in the store and no registry is named: build it (skiff build / skiff base build), load it "
         "(skiff load), or pull it by its full name (HOST/{})",
         options.image, reference.path());
  if (progress) progress->message(fmt::format("Unable to find image '{}' locally", options.image));
  PullOptions pull_options;
  if (options.platform) pull_options.platform = Platform::parse(*options.platform);
  pull_options.registry = RegistryOptions::from(config);
  pull_options.max_concurrent_downloads = config.max_concurrent_downloads;
  pull_options.progress = progress;
  return pull_and_unpack(parts.images, parts.snapshots, reference, pull_options).image;
}

void Engine::mount_rootfs(const Record& record) {
  ContainerPaths paths{container_dir(record.id)};
  if (is_mount_point(paths.rootfs())) return;
  ensure_dir(paths.rootfs(), 0755);
  auto mounts = parts_->snapshots.mounts(record.id);
  std::vector<snapshot::Mount> done;
  for (const auto& spec : mounts) done.push_back(snapshot::mount(spec, paths.rootfs()));
  for (auto& m : done) m.release();  // the mount lives until cleanup()
}

void Engine::unmount_rootfs(const std::string& id) {
  ContainerPaths paths{container_dir(id)};
  for (int i = 0; i < 8 && is_mount_point(paths.rootfs()); ++i) {
    if (::umount2(paths.rootfs().c_str(), 0) != 0 && ::umount2(paths.rootfs().c_str(), MNT_DETACH) != 0) {
      log::warn("unmount {}: {}", paths.rootfs().string(), std::strerror(errno));
      break;
    }
  }
}

Record Engine::create(const RunOptions& options, Progress* pull_progress) {
  std::unique_ptr<HeadStart> none;
  return create(options, pull_progress, false, none);
}

Record Engine::create(const RunOptions& options, Progress* pull_progress, bool foreground_run_follows,
                      std::unique_ptr<HeadStart>& head_start) {
  auto mode = Isolations::canonical_name(options.isolation.empty() ? config_.default_isolation : options.isolation);
  if (!mode) fail(ErrorKind::invalid_argument, "--isolation {}: use process, vm or hyperv", options.isolation);
  const Isolation& handler = parts_->isolations.get(*mode);
  const std::string& isolation = *mode;
  if (!options.name.empty() && !Store::valid_name(options.name))
    fail(ErrorKind::invalid_argument,
         "invalid container name \"{}\": use letters, digits, '_', '.' and '-', starting with a letter or digit",
         options.name);
  if (!options.name.empty() && store_.find(options.name))
    fail(ErrorKind::conflict, "container name \"{}\" is already in use: remove it (skiff rm {}) or choose another --name",
         options.name, options.name);

  ImageRecord image = find_or_pull(*parts_, options, config_, pull_progress);
  auto runnable = runnable_here(image.platform, parse_isolation(isolation));
  if (!runnable.runnable) fail(ErrorKind::unsupported, "run {}: {}", options.image, runnable.reason);
  StoredImage stored = load_stored_image(parts_->images, image);
  Json image_config = stored.config.document.value("config", Json::object());
  Digest top = ensure_unpacked(parts_->images, parts_->snapshots, image);

  Record record;
  record.id = random_id();
  record.name = options.name;
  record.image_id = image.id.str();
  record.image_name = options.image;
  record.created = std::chrono::system_clock::now();
  record.isolation = isolation;
  record.auto_remove = options.remove;
  std::string hostname = options.hostname.empty() ? default_hostname(record) : options.hostname;
  record.config = {{"Hostname", hostname},
                   {"Image", options.image},
                   {"Tty", options.tty},
                   {"OpenStdin", options.interactive},
                   {"Labels", options.labels},
                   {"StopSignal", options.stop_signal.empty() ? image_config.value("StopSignal", "SIGTERM")
                                                               : options.stop_signal},
                   {"StopTimeout", options.stop_timeout.value_or(10)},
                   {"LogMaxSize", options.log_max_size ? parse_size(*options.log_max_size) : default_log_max_size},
                   {"Init", options.init},
                   {"Network", options.network}};
  head_start = handler.prepare(record, {options, image.platform.os_version, top.empty() ? "" : top.str(),
                                        foreground_run_follows});
  store_.add(record);  // reserves the name; everything below is undone on failure

  ContainerPaths paths{container_dir(record.id)};
  try {
    ensure_dir(paths.dir, 0700);
    parts_->snapshots.prepare(record.id, top.empty() ? "" : top.str());
    mount_rootfs(record);
    write_etc_files(paths.etc(), hostname, options.network);
    UniqueFd rootfs_fd = open_directory(paths.rootfs());
    std::string user_spec = options.user.value_or(image_config.value("User", ""));
    User user = resolve_user(rootfs_fd.get(), user_spec);
    SpecInputs inputs{options, image_config, paths.rootfs(), user, hostname,
                      "/skiff/" + record.id, paths.etc()};
    Json spec = make_runtime_spec(runtime::default_spec(), inputs);
    write_file_atomic(paths.spec(), spec.dump(2), 0600, false);
    record.config["Cmd"] = spec["process"]["args"];
    record.config["Env"] = spec["process"]["env"];
    record.config["User"] = user_spec;
    record.config["WorkingDir"] = spec["process"]["cwd"];
    // The runtime creates these on start; `skiff commit` leaves them out.
    record.config["MountStubs"] = missing_mount_points(rootfs_fd.get(), spec);
    store_.update(record);
    parts_->images.pin(image.id, record.id);
  } catch (...) {
    try {
      destroy(record);
    } catch (const Error& e) {
      log::warn("cleaning up after a failed create: {}", e.what());
    }
    throw;
  }
  return record;
}

void Engine::destroy(const Record& record) {
  ContainerPaths paths{container_dir(record.id)};
  try {
    isolation(record).release(ref(record));
  } catch (const Error& e) {
    log::debug("release {}: {}", record.id, e.what());
  }
  unmount_rootfs(record.id);
  try {
    if (parts_->snapshots.stat(record.id)) parts_->snapshots.remove(record.id);
  } catch (const Error& e) {
    log::warn("remove the root filesystem of {}: {}", record.short_id(), e.what());
  }
  parts_->images.unpin(record.id);
  remove_tree(paths.dir);
  store_.remove(record.id);
  ::unlink(paths.lock().c_str());
}

Record Engine::reconcile(Record record) {
  if (record.state != State::running) return record;
  ContainerPaths paths{container_dir(record.id)};
  std::optional<int> exit_code;
  if (auto exit = read_exit_file(paths.exit_file())) {
    exit_code = exit->exit_code;  // the monitor recorded it; its cleanup has not run (yet)
  } else {
    // A running container is owned by a live process (the foreground skiff
    // or the monitor) holding its lock; a free lock means the owner died.
    FileLock owner = FileLock::try_lock(paths.lock());
    if (!owner.valid() || isolation(record).running(ref(record))) return record;
  }
  cleanup(record.id, exit_code);
  auto updated = store_.find(record.id);
  return updated ? *updated : record;
}

std::vector<Record> Engine::list() {
  std::vector<Record> out;
  for (auto& r : store_.list()) out.push_back(reconcile(std::move(r)));
  return out;
}

Record Engine::get(const std::string& key) { return reconcile(store_.get(key)); }

Json Engine::inspect(const Record& r) {
  auto time_or_zero = [](const std::optional<std::chrono::system_clock::time_point>& t) {
    return t ? format_rfc3339(*t) : std::string("0001-01-01T00:00:00Z");
  };
  std::string status = to_string(r.state);
  Json spec = Json::object();
  if (auto text = read_file_if_exists(ContainerPaths{container_dir(r.id)}.spec())) spec = parse_json(*text, "config.json");
  Json mounts = Json::array();
  for (const auto& m : spec.value("mounts", Json::array()))
    if (m.value("type", "") == "bind" && !m.value("destination", "").starts_with("/etc/"))
      mounts.push_back({{"Type", "bind"}, {"Source", m.value("source", "")}, {"Destination", m.value("destination", "")},
                        {"RW", std::find(m["options"].begin(), m["options"].end(), "ro") == m["options"].end()}});
  Json resources = spec.value("linux", Json::object()).value("resources", Json::object());
  return {{"Id", r.id},
          {"Name", "/" + r.name},
          {"Created", format_rfc3339(r.created)},
          {"Path", r.config.value("Cmd", Json::array()).empty() ? "" : r.config["Cmd"][0]},
          {"Args", r.config.value("Cmd", Json::array()).size() > 1
                       ? Json(std::vector<Json>(r.config["Cmd"].begin() + 1, r.config["Cmd"].end()))
                       : Json::array()},
          {"State",
           {{"Status", status},
            {"Running", r.state == State::running},
            {"Pid", r.pid},
            {"ExitCode", r.exit_code.value_or(0)},
            {"OOMKilled", r.oom_killed},
            {"StartedAt", time_or_zero(r.started_at)},
            {"FinishedAt", time_or_zero(r.finished_at)}}},
          {"Image", r.image_id},
          {"LogPath", log_path(r).string()},
          {"Config", {{"Hostname", r.config.value("Hostname", "")},
                      {"User", r.config.value("User", "")},
                      {"Env", r.config.value("Env", Json::array())},
                      {"Cmd", r.config.value("Cmd", Json::array())},
                      {"Image", r.image_name},
                      {"WorkingDir", r.config.value("WorkingDir", "")},
                      {"Tty", r.config.value("Tty", false)},
                      {"OpenStdin", r.config.value("OpenStdin", false)},
                      {"Labels", r.config.value("Labels", Json::array())},
                      {"StopSignal", r.config.value("StopSignal", "SIGTERM")}}},
          {"HostConfig", {{"Isolation", r.isolation},
                          {"AutoRemove", r.auto_remove},
                          {"NetworkMode", r.config.value("Network", "none")},
                          {"Init", r.config.value("Init", false)},
                          {"Memory", resources.value("memory", Json::object()).value("limit", 0)},
                          {"CpuQuota", resources.value("cpu", Json::object()).value("quota", 0)},
                          {"PidsLimit", resources.value("pids", Json::object()).value("limit", 0)},
                          {"ReadonlyRootfs", spec.value("root", Json::object()).value("readonly", false)}}},
          {"Mounts", mounts}};
}

}  // namespace skiff::engine
