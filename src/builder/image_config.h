// What the metadata instructions do to an image: their effect on the OCI
// image config JSON (application/vnd.oci.image.config.v1+json: top-level
// "architecture", "os", "author", "config": {Env, Cmd, …}), applied without
// running anything.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "builder/dockerfile.h"
#include "core/json.h"

namespace skiff::builder {

struct Platform;

// State of a stage the effects depend on besides the config itself.
struct ConfigState {
  // A CMD instruction ran in this stage: a later ENTRYPOINT keeps it.
  bool cmd_set = false;
};

// The image config a stage FROM scratch starts with: the platform, and
// PATH in Env as BuildKit sets it.
Json scratch_image(const Platform& platform);

// /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
std::string default_path_env();

// The shell for shell-form commands: config.Shell, else ["/bin/sh", "-c"].
std::vector<std::string> image_shell(const Json& image);

// The argv a command line runs as in `image`: exec form as is, shell form
// appended to the image's shell.
std::vector<std::string> with_shell(const Json& image, const CommandLine& command);

// Applies `instruction` (already expanded) to `image`:
//   ENV        config.Env (replacing an existing name in place)
//   LABEL      config.Labels
//   WORKDIR    config.WorkingDir (relative paths join the current one)
//   USER       config.User
//   CMD        config.Cmd (shell form through the shell); marks cmd_set
//   ENTRYPOINT config.Entrypoint; also clears config.Cmd inherited from the
//              base unless a CMD ran in this stage before (docker and BuildKit)
//   EXPOSE     config.ExposedPorts {"80/tcp": {}} (ranges expanded)
//   VOLUME     config.Volumes
//   STOPSIGNAL config.StopSignal (checked against Linux signal names)
//   HEALTHCHECK config.Healthcheck (NONE disables an inherited one)
//   SHELL      config.Shell
//   ONBUILD    config.OnBuild (the trigger text appended)
//   MAINTAINER author (BuildKit sets the image's Author field; the
//              deprecated instruction does not become a label)
// RUN, COPY, ADD, ARG and FROM leave the config alone. Throws
// invalid_argument for a bad port or signal.
void apply_to_config(Json& image, const Instruction& instruction, ConfigState& state);

// "80", "53/udp", "8000-8002/tcp", "127.0.0.1:80:80" -> {"80/tcp"}, … as
// BuildKit's EXPOSE reads them. Throws invalid_argument.
std::vector<std::string> parse_exposed_ports(std::string_view spec);

// Accepts "SIGTERM", "term", "15", "SIGRTMIN+3"; throws otherwise.
void check_stop_signal(std::string_view signal);

// `skiff commit --change`: each change (CMD, ENTRYPOINT, ENV, EXPOSE,
// HEALTHCHECK, LABEL, ONBUILD, STOPSIGNAL, USER, VOLUME or WORKDIR, as
// docker commit allows) evaluated as in a build on top of `image` (an OCI
// image config) and applied. Throws invalid_argument naming the change.
Json apply_commit_changes(Json image, const std::vector<std::string>& changes);

// WORKDIR's path resolution: `path` relative to `current` ("" : "/"), cleaned.
std::string resolve_workdir(std::string_view current, std::string_view path);

}  // namespace skiff::builder
