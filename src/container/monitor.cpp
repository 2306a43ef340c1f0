#include "container/monitor.h"

#include <unistd.h>

#include "core/error.h"
#include "core/fs.h"

namespace skiff::container {

std::optional<ExitRecord> read_exit_file(const std::filesystem::path& path) {
  auto text = read_file_if_exists(path);
  if (!text) return std::nullopt;
  Json j = parse_json(*text, path.string());
  ExitRecord record;
  record.exit_code = j.value("ExitCode", -1);
  record.finished_at = j.value("FinishedAt", "");
  return record;
}

std::vector<std::string> monitor_argv(const MonitorArgs& a) {
  std::vector<std::string> argv = {a.monitor_binary.string(),
                                   "--pid", std::to_string(a.pid),
                                   "--log", a.log_file.string(),
                                   "--log-max-size", std::to_string(a.log_max_size),
                                   "--exit-file", a.exit_file.string()};
  if (a.tty) argv.push_back("--tty");
  if (!a.cleanup_command.empty()) {
    argv.push_back("--");
    argv.insert(argv.end(), a.cleanup_command.begin(), a.cleanup_command.end());
  }
  return argv;
}

std::filesystem::path monitor_binary_path() {
  std::error_code ec;
  auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) fail(ErrorKind::internal, "cannot find the skiff binary through /proc/self/exe: {}", ec.message());
  auto monitor = self.parent_path() / "skiff-monitor";
  if (::access(monitor.c_str(), X_OK) != 0)
    fail(ErrorKind::not_found, "{} is missing: reinstall skiff (it ships skiff-monitor beside skiff)", monitor.string());
  return monitor;
}

}  // namespace skiff::container
