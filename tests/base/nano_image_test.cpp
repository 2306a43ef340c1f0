// nano as users meet it: `skiff base build` puts it into a store, `skiff run`
// runs it, and it travels through a real registry by digest.
#include <gtest/gtest.h>

#include "core/fs.h"
#include "core/json.h"
#include "core/strings.h"
#include "core/subprocess.h"
#include "support/registry.h"
#include "support/skiff_cli.h"

namespace skiff::test {
namespace {

class NanoImage : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!running_as_root()) GTEST_SKIP() << "needs root (namespaces, mounts, file ownership)";
    build_nano(skiff);
  }

  // `skiff base build nano` into the store of `cli`. The store's package
  // cache is the one the other base tests share (every test runs in a
  // process of its own; fetching the packages each time would dominate).
  void build_nano(const SkiffCli& cli) {
    std::filesystem::create_directories(SKIFF_TEST_CACHE_DIR);
    std::filesystem::create_directory_symlink(SKIFF_TEST_CACHE_DIR, cli.root() / "cache");
    auto built = cli.run({"base", "build", "nano"}, env());
    if (built.exit_code != 0 && built.err.find("apt") != std::string::npos &&
        built.err.find("mirror") != std::string::npos)
      GTEST_SKIP() << "no apt mirror reachable: " << built.err;
    ASSERT_EQ(built.exit_code, 0) << built.err;
  }

  static CommandOptions env() {
    CommandOptions options;
    options.extra_env = {std::string("SKIFF_IMAGES_DIR=") + SKIFF_TEST_IMAGES_DIR};
    return options;
  }

  std::string image_id(const SkiffCli& cli, const std::string& name) {
    auto inspected = Json::parse(cli.ok({"inspect", name}));
    return (inspected.is_array() ? inspected.at(0) : inspected).at("Id").get<std::string>();
  }

  SkiffCli skiff;
};

TEST_F(NanoImage, RunsAsContaineruserWithAShellAndNoPackageManager) {
  EXPECT_EQ(skiff.ok({"run", "--rm", "nano", "whoami"}), "containeruser\n");
  EXPECT_EQ(skiff.ok({"run", "--rm", "nano", "id", "-u"}), "1000\n");
  EXPECT_EQ(skiff.ok({"run", "--rm", "nano", "sh", "-c", "echo $((6 * 7))"}), "42\n");
  auto package_managers = skiff.run({"run", "--rm", "nano", "sh", "-c",
                                     "for p in apt apt-get dpkg dpkg-deb; do command -v $p; done; "
                                     "test ! -e /var/lib/dpkg && echo no-dpkg-database"});
  EXPECT_EQ(package_managers.out, "no-dpkg-database\n") << package_managers.err;
}

TEST_F(NanoImage, NoshellRunsAProgramButHasNoShell) {
  auto shell = skiff.run({"run", "--rm", "nano:noshell", "sh", "-c", "true"});
  EXPECT_EQ(shell.exit_code, 127) << shell.out << shell.err;
  EXPECT_NE(shell.err.find("sh"), std::string::npos) << shell.err;

  // A dynamically linked C++ program from the host (same Debian release)
  // finds every library it needs in nano:noshell.
  if (!find_program("g++")) GTEST_SKIP() << "g++ is not installed";
  TempDir work(std::filesystem::path("/var/tmp"), "skiff-nano-app-");
  write_file_atomic(work.path() / "app.cpp",
             "#include <iostream>\n#include <string>\n#include <unistd.h>\n"
             "int main() { std::string who = ::getuid() == 1000 ? \"containeruser\" : \"other\";\n"
             "  std::cout << \"hello \" << who << std::endl; }\n");
  check_output({"g++", "-O1", "-o", (work.path() / "app").string(), (work.path() / "app.cpp").string()});
  std::string mount = (work.path() / "app").string() + ":/app:ro";
  EXPECT_EQ(skiff.ok({"run", "--rm", "-v", mount, "nano:noshell", "/app"}), "hello containeruser\n");
}

TEST_F(NanoImage, TwoBuildsGiveOneImageDigest) {
  SkiffCli second;
  build_nano(second);
  EXPECT_EQ(image_id(skiff, "nano:latest"), image_id(second, "nano:latest"));
  EXPECT_EQ(image_id(skiff, "nano:noshell"), image_id(second, "nano:noshell"));
}

TEST_F(NanoImage, PushedToARegistryPullsBackByDigestAndRuns) {
  TestRegistry registry;
  std::string ref = registry.ref("base/nano:bookworm");
  skiff.ok({"tag", "nano:bookworm", ref});
  skiff.ok({"push", "-q", ref});
  auto described = Json::parse(check_output({"skopeo", "inspect", "--tls-verify=false", "docker://" + ref}));
  std::string digest = described.at("Digest").get<std::string>();
  ASSERT_TRUE(digest.starts_with("sha256:")) << described.dump();

  SkiffCli fresh;
  std::string by_digest = registry.ref("base/nano@" + digest);
  fresh.ok({"pull", "-q", by_digest});
  EXPECT_EQ(image_id(fresh, by_digest), image_id(skiff, "nano:bookworm"));
  EXPECT_EQ(fresh.ok({"run", "--rm", by_digest, "whoami"}), "containeruser\n");
}

}  // namespace
}  // namespace skiff::test
