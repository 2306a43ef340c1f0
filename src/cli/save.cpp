#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include "cli/commands.h"
#include "core/error.h"
#include "core/fd.h"
#include "image/archive.h"

namespace skiff::cli {

void add_save_command(CLI::App& app, Context& context) {
  auto* cmd = app.add_subcommand("save", "Write images to a tar archive (OCI layout, loadable by docker and podman)");
  static std::vector<std::string> images;
  static std::string output;
  cmd->add_option("IMAGE", images, "Image names or IDs")->required();
  cmd->add_option("-o,--output", output, "Archive to write (default: standard output, if not a terminal)");
  cmd->callback([&context] {
    ImageStore store(context.root());
    if (output.empty() || output == "-") {
      if (::isatty(STDOUT_FILENO))
        fail(ErrorKind::invalid_argument, "save: refusing to write an archive to a terminal; use -o FILE or redirect");
      save_images(store, images, context.policy(), STDOUT_FILENO);
      return;
    }
    // Written beside the target and renamed: a failed save leaves no file.
    std::filesystem::path target = std::filesystem::absolute(output);
    std::string temp = (target.parent_path() / ("." + target.filename().string() + ".XXXXXX")).string();
    UniqueFd fd(::mkostemp(temp.data(), O_CLOEXEC));
    if (!fd) fail_errno("save: create " + temp);
    try {
      save_images(store, images, context.policy(), fd.get());
      if (::fchmod(fd.get(), 0644) != 0) fail_errno("save: chmod " + temp);
      fd.reset();
      if (::rename(temp.c_str(), target.c_str()) != 0) fail_errno("save: rename to " + target.string());
    } catch (...) {
      ::unlink(temp.c_str());
      throw;
    }
  });
}

}  // namespace skiff::cli
