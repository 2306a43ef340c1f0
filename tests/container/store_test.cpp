#include "container/store.h"

#include <gtest/gtest.h>

#include "core/error.h"
#include "core/fs.h"

namespace skiff::container {

namespace {
Record make(std::string name = "") {
  Record r;
  r.name = std::move(name);
  r.image_id = "sha256:" + std::string(64, 'a');
  r.image_name = "nano";
  r.created = std::chrono::system_clock::now();
  r.config = {{"Cmd", {"sh"}}};
  return r;
}
}  // namespace

TEST(ContainerStore, AddsFindsByNameIdAndPrefix) {
  TempDir dir;
  Root root(dir.path());
  Store store(root);
  Record r = make("web");
  store.add(r);
  EXPECT_EQ(r.id.size(), 64u);
  EXPECT_EQ(store.get("web").id, r.id);
  EXPECT_EQ(store.get(r.id).name, "web");
  EXPECT_EQ(store.get(r.id.substr(0, 5)).name, "web");
  EXPECT_EQ(store.get("web").config["Cmd"][0], "sh");
  EXPECT_FALSE(store.find("nothere"));
  try {
    store.get("nothere");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::not_found);
    EXPECT_NE(std::string(e.what()).find("nothere"), std::string::npos);
  }
}

TEST(ContainerStore, NamesAreUniqueAndValid) {
  TempDir dir;
  Root root(dir.path());
  Store store(root);
  Record a = make("db");
  store.add(a);
  Record b = make("db");
  try {
    store.add(b);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::conflict);
    EXPECT_NE(std::string(e.what()).find("already in use"), std::string::npos);
  }
  Record bad = make("-bad name");
  EXPECT_THROW(store.add(bad), Error);
  EXPECT_EQ(store.list().size(), 1u);
  Record generated = make();
  store.add(generated);
  EXPECT_TRUE(Store::valid_name(generated.name)) << generated.name;
  EXPECT_NE(generated.name.find('_'), std::string::npos);
}

TEST(ContainerStore, AmbiguousPrefixIsAnError) {
  TempDir dir;
  Root root(dir.path());
  Store store(root);
  Record a = make("a"), b = make("b");
  a.id = "ab" + std::string(62, '0');
  b.id = "ab" + std::string(62, '1');
  store.add(a);
  store.add(b);
  EXPECT_THROW(store.get("ab"), Error);
  EXPECT_EQ(store.get("ab1").name, "b");
}

TEST(ContainerStore, UpdatesStateAndRemoves) {
  TempDir dir;
  Root root(dir.path());
  Store store(root);
  Record r = make("job");
  store.add(r);
  r.state = State::exited;
  r.exit_code = 137;
  r.oom_killed = true;
  r.finished_at = std::chrono::system_clock::now();
  store.update(r);
  Record back = store.get("job");
  EXPECT_EQ(back.state, State::exited);
  EXPECT_EQ(back.exit_code, 137);
  EXPECT_TRUE(back.oom_killed);
  ASSERT_TRUE(back.finished_at);
  store.remove(r.id);
  EXPECT_FALSE(store.find("job"));
}

}  // namespace skiff::container
