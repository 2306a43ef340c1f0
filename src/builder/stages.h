// Build arguments, platforms and the stage graph: which stages a build
// needs (given --target), in which order, and which may build in parallel.
#pragma once

#include <cstdlib>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "builder/dockerfile.h"
#include "builder/expand.h"

namespace skiff::builder {

struct Platform {
  std::string os = "linux";
  std::string architecture;
  std::string variant;

  // "linux/amd64", "linux/arm64/v8", "linux/arm/v7". Throws invalid_argument.
  static Platform parse(std::string_view text);
  // The machine skiff runs on (uname), with Go's architecture names.
  static Platform host();
  std::string str() const;  // "linux/arm64/v8"
  bool operator==(const Platform&) const = default;
};

struct BuildOptions {
  // --build-arg values; "K" alone is resolved from the environment by
  // parse_build_arg before it gets here.
  std::map<std::string, std::string> build_args;
  std::string target;  // --target; "" : the last stage
  Platform build_platform = Platform::host();
  Platform target_platform = Platform::host();
};

// "--build-arg K=V" -> {K, V}; "K" -> {K, $K} from `environment`, or
// nullopt when K is unset there (docker then ignores the flag). Throws
// invalid_argument for an empty name.
std::optional<std::pair<std::string, std::string>> parse_build_arg(
    std::string_view text, const std::function<const char*(const char*)>& environment = ::getenv);

// HTTP_PROXY, https_proxy, NO_PROXY, ALL_PROXY, FTP_PROXY in either case:
// usable in RUN without an ARG, and never part of cache keys or history.
bool is_proxy_arg(std::string_view name);

// BUILDPLATFORM, BUILDOS, BUILDARCH, BUILDVARIANT, TARGETPLATFORM, TARGETOS,
// TARGETARCH, TARGETVARIANT (and their OSVERSION siblings), TARGETSTAGE:
// set automatically in the global scope, visible in a stage after ARG NAME.
std::vector<std::pair<std::string, std::string>> platform_args(const BuildOptions& options,
                                                               std::string_view target_stage);

// What a COPY --from, a RUN --mount from= or a FROM names.
struct StageRef {
  enum class Kind { stage, image, scratch };
  Kind kind = Kind::image;
  size_t stage = 0;   // Kind::stage
  std::string image;  // Kind::image: the reference as written (after expansion for FROM)
};

struct StagePlan {
  size_t index = 0;
  std::string name;          // the AS name, "" if none
  std::string display_name;  // name, or "stage-<index>"
  StageRef base;             // what FROM names, expanded with the global args
  std::optional<Platform> platform;  // FROM --platform, expanded
  std::vector<size_t> depends_on;    // stages to build first (base, COPY --from, mounts), sorted
  std::vector<std::string> images;   // images read besides the base (COPY --from=image, mounts)
};

struct BuildPlan {
  Dockerfile dockerfile;
  BuildOptions options;
  Variables global_args;          // platform args, then the ARGs before FROM, resolved
  std::vector<StagePlan> stages;  // every stage of the Dockerfile
  size_t target = 0;
  std::vector<size_t> order;      // the stages to build, each after what it depends on
  // `order` in waves: a stage depends only on stages of earlier waves, so
  // the stages of one wave may build in parallel.
  std::vector<std::vector<size_t>> levels;
  std::vector<std::string> unused_build_args;  // given but declared by no ARG in the build, sorted
  std::vector<std::string> warnings;           // "[Warning] One or more build-args [X] were not consumed"

  bool builds(size_t stage) const;
};

// Resolves the Dockerfile's stage graph for `options`. FROM names only
// earlier stages (a later name is an image); COPY --from and --mount from=
// may name any stage, earlier or later, as in BuildKit (the classic builder
// allowed only earlier ones), as long as no cycle forms. Throws
// invalid_argument naming the file and line: unknown --target, a cycle
// through COPY --from, a stage index out of range, --from with a variable,
// an empty or malformed base image.
BuildPlan plan_build(Dockerfile dockerfile, const BuildOptions& options);

// What a COPY --from / --mount from= value names: a stage by name
// (case-insensitive) or index, else an image reference. Throws
// invalid_argument for an index out of range or a malformed reference.
StageRef resolve_from(const Dockerfile& dockerfile, std::string_view from);

}  // namespace skiff::builder
