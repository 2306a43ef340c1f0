// Files of a container under containers/<id>/ (and its owner lock beside it).
#pragma once

#include <filesystem>

namespace skiff::engine {

struct ContainerPaths {
  std::filesystem::path dir;
  std::filesystem::path bundle() const { return dir; }  // config.json + rootfs
  std::filesystem::path spec() const { return dir / "config.json"; }
  std::filesystem::path rootfs() const { return dir / "rootfs"; }
  std::filesystem::path etc() const { return dir / "etc"; }
  std::filesystem::path log() const { return dir / "container.log"; }
  std::filesystem::path exit_file() const { return dir / "exit.json"; }
  // Held by whichever process owns the running container (the foreground
  // skiff, or the monitor of a detached one): a free lock means it died.
  std::filesystem::path lock() const { return dir.parent_path() / (dir.filename().string() + ".lock"); }
};

}  // namespace skiff::engine
