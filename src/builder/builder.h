// skiff build's front end: everything about a build that needs no
// container, no snapshot and no store. The executor (executor.h: RUN in
// containers, COPY into snapshots, layer commits, the cache in the store)
// is built on top of it, in the library skiff_builder_executor:
//
//   Dockerfile df = parse_dockerfile(text, "Dockerfile");          dockerfile.h
//   BuildPlan plan = plan_build(df, options);                      stages.h
//   SourceTree context = SourceTree::context(dir, dockerfile_path); context.h
//   for (auto& wave : plan.levels)            // stages of a wave may run in parallel
//     for (size_t s : wave) {
//       Digest key = image_base_key(…) / scratch_base_key(…) / that stage's key;   cache.h
//       StageEvaluator stage(plan, s, base_image_config);          evaluate.h
//       for each trigger, then each instruction:
//         Step step = stage.next(instruction);
//         hash COPY sources (context.match + content_hash) and bind mounts;
//         key = step_cache_key(key, step, sources, mounts);
//         if (step.layer) reuse the cached layer for `key` or run step.run / step.copy;
//       stage.image() is the stage's image config (image_config.h effects applied).
//     }
#pragma once

#include "builder/cache.h"
#include "builder/context.h"
#include "builder/dockerfile.h"
#include "builder/dockerignore.h"
#include "builder/evaluate.h"
#include "builder/expand.h"
#include "builder/image_config.h"
#include "builder/stages.h"
