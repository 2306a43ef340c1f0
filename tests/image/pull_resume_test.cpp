// Interrupted and concurrent pulls: a pull killed mid-layer resumes with an
// HTTP Range request; two pulls of one image both succeed with one copy.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <thread>

#include "image_fixture.h"

namespace skiff::test {

namespace {

class PullResume : public ImageTest {};

std::uint64_t file_size_or_zero(const std::filesystem::path& path) {
  std::error_code ec;
  auto size = std::filesystem::file_size(path, ec);
  return ec ? 0 : size;
}

// The byte count the access log gives for a blob GET with `status`.
std::vector<std::uint64_t> served(const std::string& log, const Digest& blob, const std::string& status) {
  std::vector<std::uint64_t> sizes;
  for (const auto& line : log_lines(log, "/blobs/" + blob.str())) {
    auto quote = line.find("HTTP/1.1\" ");
    if (quote == std::string::npos) continue;
    auto fields = split(line.substr(quote + 10), ' ');
    if (fields.size() >= 2 && fields[0] == status) sizes.push_back(std::stoull(fields[1]));
  }
  return sizes;
}

TEST_F(PullResume, KilledPullResumesWithRange) {
  TestRegistry registry;
  use(registry);
  auto image = seed(registry, "team/big:v1", {24 << 20});
  const auto& layer = image.layers[0];
  ThrottleProxy slow(registry.host(), 4 << 20);

  auto data = skiff.root() / "content/ingest" / layer.digest.hex() / "data";
  auto child = start_skiff({"pull", slow.host() + "/team/big:v1"}, work.path() / "first.log");
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (file_size_or_zero(data) < (6u << 20) && std::chrono::steady_clock::now() < deadline) {
    ASSERT_FALSE(child.poll().has_value()) << read_file(work.path() / "first.log");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  child.kill(SIGKILL);
  EXPECT_EQ(child.wait(), 128 + SIGKILL);
  std::uint64_t kept = file_size_or_zero(data);
  ASSERT_GE(kept, 6u << 20);
  ASSERT_LT(kept, layer.size);
  EXPECT_EQ(skiff.ok({"images", "-q"}), "") << "a killed pull records no image";

  // Again, straight from the registry: only the rest of the layer travels.
  skiff.ok({"pull", "-q", image.ref});
  auto resumed = served(registry.log(), layer.digest, "206");
  ASSERT_EQ(resumed.size(), 1u) << registry.log();
  EXPECT_EQ(resumed[0], layer.size - kept);
  EXPECT_EQ(sha256_of(read_file(skiff.root() / "content/blobs/sha256" / layer.digest.hex())), layer.digest);
  EXPECT_FALSE(std::filesystem::exists(data));
  EXPECT_NE(skiff.ok({"images", "-q"}), "");
}

TEST_F(PullResume, ConcurrentPullsShareOneDownload) {
  TestRegistry registry;
  use(registry);
  auto image = seed(registry, "team/big:v1", {8 << 20, 100000});
  ThrottleProxy slow(registry.host(), 8 << 20);
  std::string ref = slow.host() + "/team/big:v1";
  auto first = start_skiff({"pull", ref}, work.path() / "first.log");
  auto second = start_skiff({"pull", ref}, work.path() / "second.log");
  EXPECT_EQ(first.wait(), 0) << read_file(work.path() / "first.log");
  EXPECT_EQ(second.wait(), 0) << read_file(work.path() / "second.log");

  // One copy of each blob, verified, nothing left in the ingest area.
  std::vector<std::string> blobs;
  for (const auto& e : std::filesystem::directory_iterator(skiff.root() / "content/blobs/sha256"))
    blobs.push_back(e.path().filename().string());
  EXPECT_EQ(blobs.size(), 4u);  // manifest, config, two layers
  for (const auto& layer : image.layers)
    EXPECT_EQ(sha256_of(read_file(skiff.root() / "content/blobs/sha256" / layer.digest.hex())), layer.digest);
  auto ingest = skiff.root() / "content/ingest";
  for (const auto& e : std::filesystem::directory_iterator(ingest)) ADD_FAILURE() << "left behind: " << e.path();
  // The big layer crossed the network once.
  EXPECT_EQ(served(registry.log(), image.layers[0].digest, "200").size(), 1u) << registry.log();
  EXPECT_EQ(count_lines(skiff.ok({"images"})), 2);
}

}  // namespace
}  // namespace skiff::test
