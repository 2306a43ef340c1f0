// skiff save / skiff load: round trips through a fresh store, a real
// docker-archive (written by skopeo, as `docker save` would), archives that
// are not images, and skiff's archive loaded by podman.
#include <unistd.h>

#include <gtest/gtest.h>

#include "core/json.h"
#include "image_fixture.h"
#include "support/test_images.h"

namespace skiff::test {

namespace {

class SaveLoad : public ImageTest {
 protected:
  void SetUp() override {
    if (!running_as_root()) GTEST_SKIP() << "the images are run, which needs root (namespaces, mounts, cgroups)";
    if (!have_busybox()) GTEST_SKIP() << "busybox-static missing: apt-get install busybox-static";
    id = add_busybox_image(skiff.root());
    skiff.ok({"tag", "busybox:test", "example.com/team/bb:v2"});
    archive = work.path() / "images.tar";
  }

  // The image as `inspect` shows it, in `store`.
  static Json inspected(const SkiffCli& store, const std::string& name) {
    return parse_json(store.ok({"inspect", "--type", "image", name}), "inspect").at(0);
  }

  // Loads `file` into a fresh store and checks it holds this image, runnable.
  void expect_loads_and_runs(const std::filesystem::path& file, const std::vector<std::string>& tags) {
    SkiffCli fresh;
    std::string out = fresh.ok({"load", "-i", file.string()});
    for (const auto& tag : tags) EXPECT_NE(out.find("Loaded image: " + tag + "\n"), std::string::npos) << out;
    Json image = inspected(fresh, tags.at(0));
    EXPECT_EQ(image["Id"], id);
    std::vector<std::string> repo_tags = image["RepoTags"];
    std::sort(repo_tags.begin(), repo_tags.end());
    EXPECT_EQ(repo_tags, tags);
    EXPECT_EQ(fresh.ok({"run", "--rm", "--network", "none", tags.at(0), "cat", "/etc/group"}),
              "root:x:0:\ncontaineruser:x:1000:\n");
    // Running unpacked the layer: its unpacked size is known now.
    EXPECT_TRUE(inspected(fresh, tags.at(0))["UnpackedSize"].is_number_unsigned()) << image.dump();
  }

  std::string id;
  std::filesystem::path archive;
};

TEST_F(SaveLoad, RoundTripKeepsIdAndTags) {
  skiff.ok({"save", "-o", archive.string(), "busybox:test", "example.com/team/bb:v2"});
  // The archive is both an OCI layout and a docker-archive.
  auto listing = run_command({"tar", "-tf", archive.string()});
  for (const char* entry : {"oci-layout", "index.json", "manifest.json"})
    EXPECT_NE(listing.out.find(std::string(entry) + "\n"), std::string::npos) << listing.out;
  expect_loads_and_runs(archive, {"busybox:test", "example.com/team/bb:v2"});
}

TEST_F(SaveLoad, SaveByIdKeepsNoName) {
  skiff.ok({"save", "-o", archive.string(), id.substr(7, 12)});
  SkiffCli fresh;
  EXPECT_EQ(fresh.ok({"load", "-i", archive.string()}), "Loaded image ID: " + id + "\n");
  EXPECT_EQ(inspected(fresh, id)["RepoTags"], Json::array());
}

TEST_F(SaveLoad, DockerSaveTarballLoads) {
  skiff.ok({"save", "-o", archive.string(), "busybox:test"});
  // skopeo writes the docker-archive `docker save` writes: manifest.json,
  // the config and the layers, no index.json.
  auto docker_archive = work.path() / "docker.tar";
  check_output({"skopeo", "copy", "--quiet", "oci-archive:" + archive.string(),
                "docker-archive:" + docker_archive.string() + ":example.com/team/bb:docker"});
  auto listing = run_command({"tar", "-tf", docker_archive.string()});
  ASSERT_EQ(listing.out.find("index.json"), std::string::npos) << listing.out;
  expect_loads_and_runs(docker_archive, {"example.com/team/bb:docker"});
}

TEST_F(SaveLoad, GarbageAndTruncatedArchivesAreRefused) {
  skiff.ok({"save", "-o", archive.string(), "busybox:test"});
  // The store that refuses them already holds an image and its blobs.
  auto garbage = work.path() / "garbage.tar";
  write_file_atomic(garbage, random_bytes(100000));
  std::string err = refused({"load", "-i", garbage.string()});
  EXPECT_NE(err.find("cannot open the archive"), std::string::npos) << err;
  EXPECT_NE(err.find("nothing was loaded"), std::string::npos) << err;

  std::string whole = read_file(archive);
  auto truncated = work.path() / "truncated.tar";
  write_file_atomic(truncated, whole.substr(0, whole.size() / 2));
  err = refused({"load", "-i", truncated.string()});
  EXPECT_NE(err.find("cannot read"), std::string::npos) << err;
  EXPECT_NE(err.find("nothing was loaded"), std::string::npos) << err;
  // Nothing half-read is left in the ingest area either.
  auto ingest = skiff.root() / "content/ingest";
  EXPECT_TRUE(!std::filesystem::exists(ingest) || std::filesystem::is_empty(ingest));

  auto not_image = work.path() / "not-image.tar";
  check_output({"tar", "-cf", not_image.string(), "-C", work.path().string(), "garbage.tar"});
  err = refused({"load", "-i", not_image.string()});
  EXPECT_NE(err.find("not an image archive"), std::string::npos) << err;

  err = refused({"load", "-i", (work.path() / "missing.tar").string()});
  EXPECT_NE(err.find("missing.tar"), std::string::npos) << err;
}

TEST_F(SaveLoad, UnknownImageIsRefusedAndNoFileIsLeft) {
  std::string err = refused({"save", "-o", archive.string(), "nosuch:image"});
  EXPECT_NE(err.find("nosuch"), std::string::npos) << err;
  EXPECT_FALSE(std::filesystem::exists(archive));
  for (const auto& e : std::filesystem::directory_iterator(work.path()))
    EXPECT_EQ(e.path().filename().string().find(".images.tar"), std::string::npos) << e.path();
}

// podman with a store of its own under /tmp, removed with the object.
class PrivatePodman {
 public:
  CommandResult run(const std::vector<std::string>& args) const {
    std::vector<std::string> argv = {"podman",      "--root",         (dir_.path() / "root").string(),
                                     "--runroot",   (dir_.path() / "run").string(),
                                     "--tmpdir",    (dir_.path() / "tmp").string(),
                                     "--storage-driver", "vfs", "--events-backend", "none"};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_command(argv);
  }

 private:
  TempDir dir_{"/tmp", "skiff-podman-"};
};

TEST_F(SaveLoad, PodmanLoadsSkiffsArchive) {
  if (::access("/usr/bin/podman", X_OK) != 0) GTEST_SKIP() << "podman is not installed (apt-get install podman)";
  PrivatePodman podman;
  if (auto r = podman.run({"images"}); r.exit_code != 0) GTEST_SKIP() << "podman cannot run here: " << r.err;
  skiff.ok({"save", "-o", archive.string(), "busybox:test", "example.com/team/bb:v2"});
  auto r = podman.run({"load", "-i", archive.string()});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  auto images = podman.run({"images", "--no-trunc", "--format", "{{.ID}} {{.Repository}}:{{.Tag}}"});
  EXPECT_NE(images.out.find(id + " localhost/busybox:test"), std::string::npos) << images.out;
  EXPECT_NE(images.out.find(id + " example.com/team/bb:v2"), std::string::npos) << images.out;
  // Read as a docker-archive (its manifest.json: one line per name) and as an
  // OCI archive (its index.json, an entry per name: one is chosen by its tag).
  auto pulled = podman.run({"pull", "-q", "docker-archive:" + archive.string()});
  EXPECT_EQ(pulled.out, id.substr(7) + "\n" + id.substr(7) + "\n") << pulled.err;
  pulled = podman.run({"pull", "-q", "oci-archive:" + archive.string() + ":v2"});
  EXPECT_EQ(pulled.out, id.substr(7) + "\n") << pulled.err;
}

}  // namespace
}  // namespace skiff::test
