// Internal to the engine: the boxes it drives, opened once per engine.
#pragma once

#include "engine/engine.h"
#include "image/store.h"
#include "runtime/runtime.h"
#include "snapshot/snapshotter.h"
#include "vm/vm.h"

namespace skiff::engine {

struct Engine::Parts {
  explicit Parts(Root& root) : images(root), snapshots(root), runtime(root.path() / "runtime") {}
  ImageStore images;
  snapshot::Snapshotter snapshots;
  runtime::Runtime runtime;
  // VM isolation (engine_vm.cpp): a foreground run boots its VM while
  // create still prepares the container.
  bool boot_vm_during_create = false;
  std::unique_ptr<vm::VmBox> booting_vm;
};

// Files of a container under containers/<id>/.
struct ContainerPaths {
  std::filesystem::path dir;
  std::filesystem::path bundle() const { return dir; }  // config.json + rootfs
  std::filesystem::path rootfs() const { return dir / "rootfs"; }
  std::filesystem::path etc() const { return dir / "etc"; }
  std::filesystem::path log() const { return dir / "container.log"; }
  std::filesystem::path exit_file() const { return dir / "exit.json"; }
  std::filesystem::path lock() const { return dir.parent_path() / (dir.filename().string() + ".lock"); }
};

}  // namespace skiff::engine
