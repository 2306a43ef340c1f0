// Internal to the engine: the boxes it drives, opened once per engine.
#pragma once

#include "engine/engine.h"
#include "engine/isolation.h"
#include "engine/paths.h"
#include "image/store.h"
#include "runtime/runtime.h"
#include "snapshot/snapshotter.h"

namespace skiff::engine {

struct Engine::Parts {
  Parts(Root& root, const Config& config)
      : images(root), snapshots(root), runtime(root.path() / "runtime"), isolations(root, config, runtime) {}
  ImageStore images;
  snapshot::Snapshotter snapshots;
  runtime::Runtime runtime;
  Isolations isolations;  // the handlers, over `runtime` and the VM box
};

}  // namespace skiff::engine
