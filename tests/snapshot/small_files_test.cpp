// Issue 3: a layer of 100,000 small files goes through the real snapshotter
// (decompression, the safe tree writer, the diff_id check, the commit) and
// every file arrives with its content and mode. The layer is made here, so
// the test needs nothing from outside; it asserts no timing.
#include <sys/stat.h>

#include <cstdint>
#include <string>

#include <gtest/gtest.h>

#include "core/fs.h"
#include "core/root.h"
#include "snapshot/layer_builder.h"
#include "snapshot/snapshotter.h"
#include "support/skiff_cli.h"

namespace skiff::test {
namespace {

namespace fs = std::filesystem;
using namespace skiff::snapshot;

constexpr int directories = 100;
constexpr int files_per_directory = 1000;

std::string directory_name(int d) { return "data/d" + std::to_string(d); }
std::string file_name(int d, int f) { return directory_name(d) + "/f" + std::to_string(f); }
// 64 to 512 bytes, different for every file, so a file written into the
// wrong place or cut short shows.
std::string content_of(int d, int f) {
  std::string line = std::to_string(d) + ":" + std::to_string(f) + "\n";
  std::string body;
  size_t size = 64 + static_cast<size_t>(d * files_per_directory + f) % 449;
  while (body.size() < size) body += line;
  body.resize(size);
  return body;
}
// Modes for both of the unpack's paths: created with the final mode (0644,
// 0755 under the usual umask) and chmod afterwards (bits the umask would
// strip, setuid).
mode_t mode_of(int d, int f) {
  int n = d * files_per_directory + f;
  if (n % 101 == 0) return 04711;
  if (n % 13 == 0) return 0666;
  if (n % 7 == 0) return 0755;
  return 0644;
}

// Regular files directly in `dir`, counted with readdir.
size_t count_regular_files(const fs::path& dir) {
  size_t count = 0;
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.is_regular_file()) ++count;
  return count;
}

TEST(SmallFilesLayer, AHundredThousandFilesUnpackCompleteThroughTheSnapshotter) {
  if (!running_as_root()) GTEST_SKIP() << "needs root: the snapshotter restores owners";
  TempDir store(fs::path("/var/tmp"), "skiff-small-files-test-");
  Root root(store.path() / "root");
  Snapshotter snapshots(root);

  // GNU headers (no pax records) and zstd keep making the layer quick.
  LayerBuilder builder(LayerBuilder::Format::gnu);
  builder.dir("data");
  for (int d = 0; d < directories; ++d) {
    builder.dir(directory_name(d));
    for (int f = 0; f < files_per_directory; ++f) builder.file(file_name(d, f), content_of(d, f), mode_of(d, f));
  }
  std::string tar = builder.tar();
  std::uint64_t content_bytes = 0;
  for (const auto& entry : builder.entries()) content_bytes += entry.content.size();
  fs::path blob = store.path() / "layer.tar.zst";
  write_file_atomic(blob, compress(tar, Compression::zstd));

  LayerFile layer;
  layer.blob = blob;
  layer.descriptor.media_type = layer_media_type(Compression::zstd);
  layer.descriptor.diff_id = sha256_of(tar);
  layer.descriptor.digest = sha256_of(read_file(blob));
  tar.clear();
  Digest top = snapshots.unpack_layers({layer});

  // Committed, with the diff_id and content size of the whole layer, and
  // nothing left in staging.
  EXPECT_EQ(top, layer.descriptor.diff_id) << "a base layer's chain ID is its diff_id";
  auto info = snapshots.stat(top.str());
  ASSERT_TRUE(info);
  EXPECT_EQ(info->kind, Kind::committed);
  EXPECT_EQ(info->diff_id, layer.descriptor.diff_id.str());
  EXPECT_EQ(info->size, content_bytes);
  auto staging = root.snapshots_dir() / "tmp";
  if (fs::exists(staging)) {
    EXPECT_TRUE(fs::is_empty(staging)) << "an unpack left its staging directory behind";
  }

  fs::path tree = snapshots.fs_path(top.str());
  size_t total = 0;
  for (int d = 0; d < directories; ++d) {
    size_t here = count_regular_files(tree / directory_name(d));
    EXPECT_EQ(here, static_cast<size_t>(files_per_directory)) << directory_name(d);
    total += here;
  }
  EXPECT_EQ(total, static_cast<size_t>(directories * files_per_directory));
  EXPECT_EQ(count_regular_files(tree / "data"), 0u);

  // A spread-out sample: first, last, and a prime stride through the rest.
  for (int n = 0; n < directories * files_per_directory; n += n < 99990 ? 997 : 1) {
    int d = n / files_per_directory, f = n % files_per_directory;
    fs::path path = tree / file_name(d, f);
    struct stat st;
    ASSERT_EQ(::lstat(path.c_str(), &st), 0) << path;
    EXPECT_TRUE(S_ISREG(st.st_mode)) << path;
    EXPECT_EQ(st.st_mode & 07777, mode_of(d, f)) << path;
    EXPECT_EQ(st.st_mtime, 1700000000) << path;
    EXPECT_EQ(read_file(path), content_of(d, f)) << path;
  }
}

}  // namespace
}  // namespace skiff::test
