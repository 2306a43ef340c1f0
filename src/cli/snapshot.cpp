// `skiff snapshot …`: a hidden debugging front end to the snapshotter
// (unpack layer files into the store, list, remove, diff). Benchmarks use it
// to time unpacking without a registry; users get `pull`, `images`,
// `system df/prune` instead.
#include <fmt/format.h>

#include <chrono>

#include "cli/commands.h"
#include "cli/table.h"
#include "core/error.h"
#include "core/fs.h"
#include "core/humanize.h"
#include "core/json.h"
#include "snapshot/snapshotter.h"

namespace skiff::cli {

namespace {

snapshot::LayerFile parse_layer_argument(const std::string& argument, const std::string& media_type) {
  auto eq = argument.rfind('=');
  if (eq == std::string::npos)
    fail(ErrorKind::invalid_argument, "layer \"{}\": expected BLOB=DIFF_ID (the diff_id from the image config)",
         argument);
  snapshot::LayerFile layer;
  layer.blob = argument.substr(0, eq);
  layer.descriptor.diff_id = Digest::parse(argument.substr(eq + 1));
  layer.descriptor.media_type = media_type;
  return layer;
}

snapshot::Compression parse_compression(const std::string& text) {
  if (text == "gzip") return snapshot::Compression::gzip;
  if (text == "zstd") return snapshot::Compression::zstd;
  if (text == "none") return snapshot::Compression::none;
  fail(ErrorKind::invalid_argument, "--compression {}: use gzip, zstd or none", text);
}

void add_unpack(CLI::App& parent, Context& context) {
  auto* cmd = parent.add_subcommand("unpack", "Unpack layer files (bottom first) into the store, or flatten them into a directory");
  static std::vector<std::string> layers;
  static std::string media_type, flatten, format;
  cmd->add_option("layers", layers, "BLOB=DIFF_ID for each layer, bottom first")->required();
  cmd->add_option("--media-type", media_type, "Media type of every layer (default: detect the compression)");
  cmd->add_option("--flatten", flatten, "Apply all layers into this empty directory instead of the store");
  cmd->add_option("--format", format, "Output format: table or json");
  cmd->callback([&context] {
    std::vector<snapshot::LayerFile> files;
    for (const auto& l : layers) files.push_back(parse_layer_argument(l, media_type));
    auto start = std::chrono::steady_clock::now();
    Json out;
    if (!flatten.empty()) {
      ensure_dir(flatten);
      std::uint64_t entries = 0, bytes = 0;
      for (const auto& f : files) {
        snapshot::UnpackOptions options;
        options.whiteouts = snapshot::WhiteoutMode::flatten;
        options.media_type = f.descriptor.media_type;
        options.expected_diff_id = f.descriptor.diff_id;
        options.name = "layer " + f.blob.string();
        auto result = snapshot::apply_layer(f.blob, flatten, options);
        entries += result.entries;
        bytes += result.tar_bytes;
      }
      out = {{"Directory", flatten}, {"Entries", entries}, {"TarBytes", bytes}};
    } else {
      snapshot::Snapshotter snapshots(context.root());
      Digest top = snapshots.unpack_layers(files);
      out = {{"ChainID", top.str()}};
    }
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    out["Seconds"] = seconds;
    if (wants_json(format)) fmt::print("{}\n", out.dump());
    else fmt::print("{} ({:.3f} s)\n", out.contains("ChainID") ? out["ChainID"].get<std::string>() : flatten, seconds);
  });
}

void add_ls(CLI::App& parent, Context& context) {
  auto* cmd = parent.add_subcommand("ls", "List snapshots");
  static std::string format;
  cmd->add_option("--format", format, "Output format: table or json");
  cmd->callback([&context] {
    snapshot::Snapshotter snapshots(context.root());
    bool json = wants_json(format);
    Table table({"KEY", "KIND", "PARENT", "SIZE", "CREATED"});
    snapshots.walk([&](const snapshot::Info& info) {
      if (json) {
        fmt::print("{}\n", Json{{"Key", info.key}, {"Kind", snapshot::to_string(info.kind)}, {"Parent", info.parent},
                                {"Id", info.id}, {"DiffID", info.diff_id}, {"Size", info.size},
                                {"Created", info.created}}
                               .dump());
        return;
      }
      auto shorten = [](const std::string& key) { return key.starts_with("sha256:") ? key.substr(7, 12) : key; };
      table.add({shorten(info.key), snapshot::to_string(info.kind), shorten(info.parent), human_size(info.size),
                 info.created});
    });
    if (!json) table.print();
  });
}

void add_rm(CLI::App& parent, Context& context) {
  auto* cmd = parent.add_subcommand("rm", "Remove snapshots that nothing builds on");
  static std::vector<std::string> keys;
  cmd->add_option("keys", keys, "Snapshot keys")->required();
  cmd->callback([&context] {
    snapshot::Snapshotter snapshots(context.root());
    for (const auto& key : keys) {
      snapshots.remove(key);
      fmt::print("{}\n", key);
    }
  });
}

void add_diff(CLI::App& parent, Context& context) {
  auto* cmd = parent.add_subcommand("diff", "Write a snapshot's changes as a layer file");
  static std::string key, output, compression = "gzip", format;
  cmd->add_option("key", key, "Snapshot key")->required();
  cmd->add_option("-o,--output", output, "Layer file to write")->required();
  cmd->add_option("--compression", compression, "gzip, zstd or none")->capture_default_str();
  cmd->add_option("--format", format, "Output format: table or json");
  cmd->callback([&context] {
    snapshot::Snapshotter snapshots(context.root());
    snapshot::DiffOptions options;
    options.compression = parse_compression(compression);
    snapshot::FileSink sink(output);
    auto info = snapshots.diff(key, sink, options);
    sink.close();
    if (wants_json(format)) {
      fmt::print("{}\n", Json{{"Digest", info.digest.str()}, {"DiffID", info.diff_id.str()}, {"Size", info.size},
                              {"MediaType", info.media_type}}
                             .dump());
    } else {
      fmt::print("{} {} ({})\n", info.digest.str(), info.diff_id.str(), human_size(info.size));
    }
  });
}

}  // namespace

void add_snapshot_command(CLI::App& app, Context& context) {
  auto* cmd = app.add_subcommand("snapshot", "Inspect and drive the snapshotter (debugging)");
  cmd->require_subcommand(1);
  add_unpack(*cmd, context);
  add_ls(*cmd, context);
  add_rm(*cmd, context);
  add_diff(*cmd, context);
  cmd->group("");  // hidden from `skiff --help` (after the subcommands, which inherit the group)
}

}  // namespace skiff::cli
