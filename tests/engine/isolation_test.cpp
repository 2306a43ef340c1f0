// The isolation handlers the engine drives (engine/isolation.h): the names
// records carry, and the seam networking builds on: a process-isolated
// container started with a prepared network namespace runs inside it.
#include <unistd.h>

#include <gtest/gtest.h>

#include "container/store.h"
#include "core/pipe.h"
#include "core/root.h"
#include "core/subprocess.h"
#include "engine/isolation.h"
#include "engine/isolation_process.h"
#include "engine_fixture.h"
#include "runtime/runtime.h"

namespace skiff::test {

namespace {

using engine::Isolations;

TEST(Isolations, NamesAndAliases) {
  EXPECT_EQ(Isolations::canonical_name("process"), "process");
  EXPECT_EQ(Isolations::canonical_name("vm"), "vm");
  EXPECT_EQ(Isolations::canonical_name("hyperv"), "vm") << "docker's name for VM isolation";
  EXPECT_EQ(Isolations::canonical_name("kvm"), std::nullopt);
  EXPECT_EQ(Isolations::canonical_name(""), std::nullopt);
}

TEST(JoinNetworkNamespace, ReplacesTheNewNamespaceOrJoinsFromTheHosts) {
  Json spec = {{"linux", {{"namespaces", {{{"type", "pid"}}, {{"type", "network"}}}}}}};
  Json joined = engine::join_network_namespace(spec, "/run/netns/a");
  ASSERT_EQ(joined["linux"]["namespaces"].size(), 2u);
  EXPECT_EQ(joined["linux"]["namespaces"][1], Json({{"type", "network"}, {"path", "/run/netns/a"}}));
  EXPECT_EQ(joined["linux"]["namespaces"][0], Json({{"type", "pid"}}));

  Json host = {{"linux", {{"namespaces", {{{"type", "pid"}}}}}}};  // --network host
  joined = engine::join_network_namespace(host, "/run/netns/b");
  ASSERT_EQ(joined["linux"]["namespaces"].size(), 2u);
  EXPECT_EQ(joined["linux"]["namespaces"][1]["path"], "/run/netns/b");
}

class ProcessIsolationTest : public EngineTest {
 protected:
  void TearDown() override {
    if (!netns.empty()) run_command({"ip", "netns", "del", netns});
  }
  std::string netns;
};

TEST_F(ProcessIsolationTest, RunsInThePreparedNetworkNamespace) {
  netns = "skiff-test-" + std::to_string(::getpid());
  ASSERT_EQ(run_command({"ip", "netns", "add", netns}).exit_code, 0);
  ASSERT_EQ(run_command({"ip", "-n", netns, "link", "add", "skiffprobe0", "type", "bridge"}).exit_code, 0);
  std::string id = skiff.ok({"create", "busybox:test", "ip", "link"});
  id.pop_back();

  Root root(skiff.root());
  container::Store store(root);
  container::Record record = store.get(id);
  runtime::Runtime runtime(root.path() / "runtime");
  engine::ProcessIsolation handler(runtime);
  engine::ContainerRef c{record, engine::ContainerPaths{root.containers_dir() / id}};
  Pipe output;
  engine::Exit exit = handler.run_foreground(c, {"/run/netns/" + netns}, {-1, output.write.get(), output.write.get()},
                                             nullptr, {});
  output.write.reset();
  std::string seen;
  char buffer[4096];
  for (ssize_t n; (n = ::read(output.read.get(), buffer, sizeof buffer)) > 0;) seen.append(buffer, n);
  handler.release(c);
  EXPECT_EQ(exit.code, 0) << seen;
  EXPECT_NE(seen.find("skiffprobe0"), std::string::npos) << "the container's links are the prepared namespace's:\n" << seen;
  skiff.ok({"rm", id});
}

}  // namespace

}  // namespace skiff::test
