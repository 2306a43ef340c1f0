// skiff system df, system prune and the collection after rmi: what the
// store holds, what goes, and that nothing another image or a running
// container needs goes with it.
#include <unistd.h>

#include <gtest/gtest.h>

#include "engine_fixture.h"

namespace skiff::test {

namespace {

class Storage : public EngineTest {
 protected:
  std::string name(const std::string& what) const { return what + "-" + std::to_string(::getpid()); }
};

TEST_F(Storage, DfCountsImagesSnapshotsAndContainersWritableLayers) {
  EXPECT_EQ(usage("Images")["TotalCount"], "1");
  EXPECT_EQ(usage("Images")["Active"], "0");
  EXPECT_EQ(usage("Containers")["TotalCount"], "0");

  skiff.ok({"run", "--name", name("df"), "busybox:test", "dd", "if=/dev/zero", "of=/big", "bs=1024", "count=300"});
  Json images = usage("Images"), snapshots = usage("Snapshots"), containers = usage("Containers");
  EXPECT_EQ(images["Active"], "1") << images;
  EXPECT_EQ(images["ReclaimableBytes"], 0) << "an image a container uses is not reclaimable";
  EXPECT_GT(images["SizeBytes"].get<std::uint64_t>(), 0u);
  EXPECT_GE(std::stoi(snapshots["TotalCount"].get<std::string>()), 1) << snapshots;
  EXPECT_GT(snapshots["SizeBytes"].get<std::uint64_t>(), 1'000'000u) << "busybox unpacked: " << snapshots;
  EXPECT_EQ(containers["TotalCount"], "1");
  EXPECT_EQ(containers["Active"], "0") << "exited";
  EXPECT_GE(containers["SizeBytes"].get<std::uint64_t>(), 300u * 1024) << containers;
  EXPECT_EQ(containers["ReclaimableBytes"], containers["SizeBytes"]);

  Json detail = parse_json(skiff.ok({"system", "df", "-v", "--format", "json"}), "system df -v");
  ASSERT_EQ(detail["Containers"].size(), 1u) << detail;
  EXPECT_EQ(detail["Containers"][0]["Names"], name("df"));
  ASSERT_EQ(detail["Images"].size(), 1u);
  EXPECT_EQ(detail["Images"][0]["ID"], image_id);
  EXPECT_EQ(detail["Images"][0]["Containers"], 1);

  std::string table = skiff.ok({"system", "df"});
  for (const char* column : {"TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE", "Images", "Snapshots", "Containers",
                             "Build Cache"})
    EXPECT_NE(table.find(column), std::string::npos) << column << " in\n" << table;
}

TEST_F(Storage, RmiCollectsTheSnapshotsAndBlobsNoImageNeeds) {
  skiff.ok({"run", "--rm", "busybox:test", "true"});
  EXPECT_GE(snapshots_on_disk(), 1u) << "run unpacked the image";
  skiff.ok({"rmi", "busybox:test"});
  EXPECT_EQ(snapshots_on_disk(), 0u);
  EXPECT_EQ(blobs_on_disk(), 0u);
  EXPECT_EQ(usage("Snapshots")["TotalCount"], "0");
}

TEST_F(Storage, RmiKeepsWhatAnotherImageShares) {
  // A committed image sits on busybox's layers: removing busybox:test
  // must leave them, and the child still runs.
  skiff.ok({"run", "--name", name("base"), "busybox:test", "sh", "-c", "echo child > /child"});
  skiff.ok({"commit", name("base"), "child:test"});
  skiff.ok({"rm", name("base")});
  EXPECT_EQ(skiff.ok({"run", "--rm", "child:test", "cat", "/child"}), "child\n");
  size_t child_snapshots = snapshots_on_disk();  // busybox's layers and the child's
  skiff.ok({"rmi", "busybox:test"});
  EXPECT_EQ(snapshots_on_disk(), child_snapshots);
  EXPECT_EQ(skiff.ok({"run", "--rm", "child:test", "cat", "/child"}), "child\n");
  skiff.ok({"rmi", "child:test"});
  EXPECT_EQ(snapshots_on_disk(), 0u);
  EXPECT_EQ(blobs_on_disk(), 0u);
}

TEST_F(Storage, PruneTakesStoppedContainersAndDanglingImagesButNotWhatIsInUse) {
  skiff.ok({"run", "--name", name("stopped"), "busybox:test", "true"});
  std::string running = name("running");
  skiff.ok({"run", "-d", "--name", running, "busybox:test", "sleep", "300"});
  // Committing twice to one tag leaves the first image dangling.
  std::string dangling = skiff.ok({"commit", name("stopped"), "kept:test"});
  skiff.ok({"commit", "-c", "ENV SECOND=1", name("stopped"), "kept:test"});
  std::string before = image_ids();
  EXPECT_EQ(count_lines(before), 3) << before;

  std::string out = skiff.ok({"system", "prune", "-f"});
  EXPECT_NE(out.find("Deleted Containers:"), std::string::npos) << out;
  EXPECT_NE(out.find("Total reclaimed space:"), std::string::npos) << out;
  std::string ps = skiff.ok({"ps", "-a", "--format", "json"});
  EXPECT_EQ(ps.find(name("stopped")), std::string::npos) << ps;
  EXPECT_NE(ps.find(running), std::string::npos) << "a running container stays: " << ps;
  EXPECT_EQ(count_lines(image_ids()), 2) << "the dangling image went, busybox:test and kept:test stay";
  EXPECT_NE(out.find("deleted: " + dangling.substr(0, dangling.size() - 1)), std::string::npos) << out;
  EXPECT_EQ(skiff.ok({"exec", running, "echo", "alive"}), "alive\n");

  // -a: every image no container uses; the running container keeps busybox.
  skiff.ok({"system", "prune", "-a", "-f"});
  EXPECT_EQ(image_ids(), image_id.substr(7, 12) + "\n");
  skiff.ok({"rm", "-f", running});
  skiff.ok({"system", "prune", "-a", "-f"});
  EXPECT_EQ(image_ids(), "");
  EXPECT_EQ(snapshots_on_disk(), 0u);
  EXPECT_EQ(blobs_on_disk(), 0u);
  EXPECT_EQ(usage("Images")["SizeBytes"], 0);
}

TEST_F(Storage, PruneWithNothingToDoReclaimsNothing) {
  std::string before = store_listing(skiff);
  EXPECT_EQ(skiff.ok({"system", "prune", "-f"}), "Total reclaimed space: 0B\n");
  EXPECT_EQ(store_listing(skiff), before);
}

}  // namespace

}  // namespace skiff::test
