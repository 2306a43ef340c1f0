// nano and nano-noshell built for real: packages from the host's apt
// mirror, trees checked by running programs in them under chroot.
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/stat.h>

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>

#include "base/base.h"
#include "base/definition.h"
#include "core/error.h"
#include "core/fs.h"
#include "core/strings.h"
#include "core/subprocess.h"
#include "support/skiff_cli.h"

namespace skiff::base {
namespace {

// Declares `name` as the built `flavour`, or skips the test.
#define BUILT(name, flavour)                          \
  const Built* name##_built = built(flavour);         \
  if (!name##_built) GTEST_SKIP() << skip_reason_;    \
  const Built& name = *name##_built

struct Built {
  std::filesystem::path dir;
  BaseImageSpec spec;
};

// One build of each flavour per test process, made when a test first asks
// for it (CTest runs every test in a process of its own).
class NanoTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!skiff::test::running_as_root()) skip_reason_ = "needs root (file ownership, chroot)";
    else work_ = std::make_unique<TempDir>(std::filesystem::path("/var/tmp"), "skiff-base-nano-");
  }
  static void TearDownTestSuite() { work_.reset(); }
  void SetUp() override {
    if (!skip_reason_.empty()) GTEST_SKIP() << skip_reason_;
  }
  // The built flavour, or nullptr (skip_reason_ set) when no apt mirror can be reached.
  static const Built* built(const std::string& flavour) {
    auto it = builds_.find(flavour);
    if (it != builds_.end()) return &it->second;
    try {
      return &(builds_[flavour] = build(flavour, flavour));
    } catch (const Error& e) {
      if (e.kind() != ErrorKind::unavailable) throw;
      skip_reason_ = std::string("no apt mirror reachable: ") + e.what();
      return nullptr;
    }
  }

  static Built build(const std::string& flavour, const std::string& dir_name) {
    BuildOptions options;
    // A cache kept in the build tree: each test runs in its own process, and
    // re-downloading the packages for each would dominate the suite's time.
    // (CliRootfsCommand starts from an empty store and covers the cold path.)
    options.cache_dir = SKIFF_TEST_CACHE_DIR;
    options.definitions_dir = SKIFF_TEST_IMAGES_DIR;
    auto dir = work_->path() / dir_name;
    auto spec = build_rootfs(flavour, dir, options);
    return {dir, spec};
  }

  static CommandResult in_chroot(const std::filesystem::path& root, const std::string& userspec,
                                 std::vector<std::string> argv) {
    std::vector<std::string> full = {"chroot", "--userspec=" + userspec, root.string()};
    full.insert(full.end(), argv.begin(), argv.end());
    CommandOptions options;
    options.extra_env = {"HOME=/", "PATH=/usr/bin:/bin"};
    return run_command(full, options);
  }

  static bool exists(const std::filesystem::path& p) {
    return std::filesystem::exists(std::filesystem::symlink_status(p));
  }

  static inline std::string skip_reason_;
  static inline std::unique_ptr<TempDir> work_;
  static inline std::map<std::string, Built> builds_;
};

TEST_F(NanoTest, DynamicallyLinkedCxxProgramRuns) {
  BUILT(nano_, "nano");
  if (!find_program("g++")) GTEST_SKIP() << "g++ is not installed";
  auto source = work_->path() / "prog.cpp";
  std::ofstream(source) << R"(
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <zlib.h>
#include <ctime>
#include <iostream>
#include <stdexcept>
#include <string>
#include <thread>
int main() {
  if (OPENSSL_init_ssl(0, nullptr) != 1) return 2;
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (!ctx || SSL_CTX_set_default_verify_paths(ctx) != 1) return 3;
  int cas = sk_X509_OBJECT_num(X509_STORE_get0_objects(SSL_CTX_get_cert_store(ctx)));
  std::string message;
  try { throw std::runtime_error("caught"); } catch (const std::exception& e) { message = e.what(); }
  std::thread worker([&] { message += "+thread"; });
  worker.join();
  setenv("TZ", "Europe/Paris", 1);
  tzset();
  std::time_t zero = 0;
  char zone[16];
  std::strftime(zone, sizeof zone, "%Z", std::localtime(&zero));
  std::cout << message << " cas=" << cas << " zlib=" << zlibVersion() << " tz=" << zone << std::endl;
  SSL_CTX_free(ctx);
}
)";
  auto binary = nano_.dir / "tmp/prog";
  auto compiled = run_command({"g++", "-O1", source.string(), "-o", binary.string(), "-lssl", "-lcrypto", "-lz"});
  if (compiled.exit_code != 0) GTEST_SKIP() << "cannot build the test program (libssl-dev?): " << compiled.err;
  auto result = in_chroot(nano_.dir, "1000:1000", {"/tmp/prog"});
  std::filesystem::remove(binary);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("caught+thread"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("tz=CET"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("zlib=1."), std::string::npos) << result.out;
  // The CA bundle is found through OpenSSL's default paths (/usr/lib/ssl/cert.pem).
  EXPECT_EQ(result.out.find("cas=0 "), std::string::npos) << result.out;
}

TEST_F(NanoTest, WhoamiSaysContaineruser) {
  BUILT(nano_, "nano");
  auto as_user = in_chroot(nano_.dir, "1000:1000", {"/bin/sh", "-c", "whoami; id -gn; echo ~containeruser"});
  ASSERT_EQ(as_user.exit_code, 0) << as_user.err;
  EXPECT_EQ(as_user.out, "containeruser\ncontaineruser\n/home/containeruser\n");
  auto as_root = in_chroot(nano_.dir, "0:0", {"whoami"});
  EXPECT_EQ(as_root.out, "root\n") << as_root.err;
}

TEST_F(NanoTest, ConfigRunsAsContaineruserWithAShell) {
  BUILT(nano_, "nano");
  BUILT(noshell_, "nano-noshell");
  const auto& c = nano_.spec.config;
  EXPECT_EQ(c.user, "containeruser");
  EXPECT_EQ(c.cmd, (std::vector<std::string>{"/bin/sh"}));
  EXPECT_EQ(c.working_dir, "/home/containeruser");
  ASSERT_FALSE(c.env.empty());
  EXPECT_TRUE(c.env[0].starts_with("PATH=")) << c.env[0];
  EXPECT_EQ(nano_.spec.tags, (std::vector<std::string>{"nano:bookworm", "nano:latest"}));
  EXPECT_EQ(noshell_.spec.tags, (std::vector<std::string>{"nano:bookworm-noshell", "nano:noshell"}));
  EXPECT_TRUE(noshell_.spec.config.cmd.empty());
  EXPECT_EQ(noshell_.spec.config.user, "containeruser");

  auto oci = nano_.spec.to_oci_config();
  EXPECT_EQ(oci["config"]["User"], "containeruser");
  EXPECT_EQ(oci["os"], "linux");
  EXPECT_EQ(oci["created"], nano_.spec.created);
}

TEST_F(NanoTest, LabelsListPackagesAndSources) {
  BUILT(nano_, "nano");
  const auto& labels = nano_.spec.config.labels;
  std::string packages = labels.at("org.skiff.packages");
  std::string sources = labels.at("org.skiff.source-packages");
  for (const auto& p : nano_.spec.packages) {
    EXPECT_NE(packages.find(p.name + "=" + p.version), std::string::npos) << p.name;
    EXPECT_NE(sources.find(p.source + "=" + p.source_version), std::string::npos) << p.source;
  }
  EXPECT_NE(packages.find("libc6="), std::string::npos);
  EXPECT_NE(sources.find("glibc="), std::string::npos);
  EXPECT_NE(sources.find("openssl="), std::string::npos);
  EXPECT_EQ(labels.at("org.skiff.release"), "bookworm");
  EXPECT_EQ(labels.at("org.opencontainers.image.created"), nano_.spec.created);
  EXPECT_EQ(labels.at("org.opencontainers.image.title"), "skiff nano");
}

TEST_F(NanoTest, HasNoPackageManager) {
  BUILT(nano_, "nano");
  BUILT(noshell_, "nano-noshell");
  for (const auto* built : {&nano_, &noshell_}) {
    for (const char* path : {"usr/bin/apt", "usr/bin/apt-get", "usr/bin/dpkg", "usr/bin/dpkg-deb", "var/lib/dpkg",
                             "etc/apt", "usr/bin/rpm", "usr/lib/apt"})
      EXPECT_FALSE(exists(built->dir / path)) << built->spec.flavour << ": " << path;
  }
  auto probe = in_chroot(nano_.dir, "1000:1000", {"/bin/sh", "-c", "dpkg --version || apt-get --version"});
  EXPECT_NE(probe.exit_code, 0) << probe.out;
}

TEST_F(NanoTest, NoshellHasNoShell) {
  BUILT(nano_, "nano");
  BUILT(noshell_, "nano-noshell");
  for (const char* path : {"bin/sh", "usr/bin/sh", "usr/bin/busybox", "usr/bin/ash", "usr/bin/bash"})
    EXPECT_FALSE(exists(noshell_.dir / path)) << path;
  // Nothing at all in the command directories.
  EXPECT_TRUE(std::filesystem::is_empty(noshell_.dir / "usr/bin"));
  EXPECT_TRUE(std::filesystem::is_empty(noshell_.dir / "usr/sbin"));
  auto probe = in_chroot(noshell_.dir, "1000:1000", {"/bin/sh", "-c", "true"});
  EXPECT_NE(probe.exit_code, 0);
  // The runtime is the same as nano's.
  EXPECT_TRUE(exists(noshell_.dir / "etc/ssl/certs/ca-certificates.crt"));
  EXPECT_TRUE(exists(noshell_.dir / "lib64/ld-linux-x86-64.so.2") || !exists(nano_.dir / "lib64/ld-linux-x86-64.so.2"));
}

TEST_F(NanoTest, EveryAppletIsInBusybox) {
  BUILT(nano_, "nano");
  auto definition = load_definition(std::filesystem::path(SKIFF_TEST_IMAGES_DIR) / "nano.slices", "bookworm");
  auto listed = in_chroot(nano_.dir, "1000:1000", {"/usr/bin/busybox", "--list"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  auto available = split(listed.out, '\n');
  ASSERT_FALSE(definition.applets.empty());
  for (const auto& set : definition.applets)
    for (const auto& name : set.names) {
      EXPECT_NE(std::find(available.begin(), available.end(), name), available.end())
          << "busybox has no applet " << name;
      EXPECT_EQ(std::filesystem::read_symlink(nano_.dir / "usr/bin" / name), "busybox") << name;
    }
  // A session's everyday commands work.
  auto session = in_chroot(nano_.dir, "1000:1000",
                           {"/bin/sh", "-c", "cd /tmp && echo hi > f && cat f | wc -c && ls / | grep -c usr && uname -s"});
  EXPECT_EQ(session.out, "3\n1\nLinux\n") << session.err;
}

TEST_F(NanoTest, CaBundleParses) {
  BUILT(nano_, "nano");
  auto path = nano_.dir / "etc/ssl/certs/ca-certificates.crt";
  std::string pem = read_file(path);
  ASSERT_FALSE(pem.empty());
  size_t begins = 0;
  for (size_t at = pem.find("-----BEGIN CERTIFICATE-----"); at != std::string::npos;
       at = pem.find("-----BEGIN CERTIFICATE-----", at + 1))
    ++begins;
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
  size_t parsed = 0;
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    ++parsed;
    X509_free(cert);
  }
  EXPECT_GT(parsed, 100u);  // Mozilla's root program has well over a hundred roots
  EXPECT_EQ(parsed, begins);
  // The certificates it was made from are gone; the bundle is what TLS reads.
  EXPECT_FALSE(exists(nano_.dir / "usr/share/ca-certificates"));
  EXPECT_EQ(std::filesystem::read_symlink(nano_.dir / "usr/lib/ssl/cert.pem"), "/etc/ssl/certs/ca-certificates.crt");
  if (find_program("openssl")) {
    auto check = run_command({"openssl", "storeutl", "-noout", "-certs", path.string()});
    EXPECT_EQ(check.exit_code, 0) << check.err;
  }
}

TEST_F(NanoTest, ZoneinfoAndSystemFiles) {
  BUILT(nano_, "nano");
  BUILT(noshell_, "nano-noshell");
  EXPECT_TRUE(std::filesystem::is_regular_file(nano_.dir / "usr/share/zoneinfo/Etc/UTC"));
  EXPECT_TRUE(std::filesystem::is_regular_file(nano_.dir / "usr/share/zoneinfo/Europe/Paris"));
  EXPECT_FALSE(exists(nano_.dir / "usr/share/zoneinfo/right"));
  EXPECT_EQ(std::filesystem::read_symlink(nano_.dir / "etc/localtime"), "/usr/share/zoneinfo/Etc/UTC");
  EXPECT_NE(read_file(nano_.dir / "etc/services").find("https"), std::string::npos);
  EXPECT_NE(read_file(nano_.dir / "etc/protocols").find("tcp"), std::string::npos);
  EXPECT_NE(read_file(nano_.dir / "etc/nsswitch.conf").find("passwd:"), std::string::npos);
  std::string os_release = read_file(nano_.dir / "usr/lib/os-release");
  EXPECT_NE(os_release.find("NAME=\"skiff nano\""), std::string::npos) << os_release;
  EXPECT_NE(os_release.find("VERSION_CODENAME=\"bookworm\""), std::string::npos) << os_release;
  EXPECT_NE(os_release.find("VERSION_ID="), std::string::npos) << os_release;
  EXPECT_NE(read_file(noshell_.dir / "etc/os-release").find("VARIANT_ID=nano-noshell"), std::string::npos);
  EXPECT_NE(read_file(nano_.dir / "etc/passwd").find("containeruser:x:1000:1000::/home/containeruser:"),
            std::string::npos);
  EXPECT_NE(read_file(nano_.dir / "etc/group").find("containeruser:x:1000:"), std::string::npos);

  struct stat st;
  ASSERT_EQ(::lstat((nano_.dir / "tmp").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 01777u);
  ASSERT_EQ(::lstat((nano_.dir / "home/containeruser").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 1000u);
  EXPECT_EQ(st.st_gid, 1000u);
  for (const char* link : {"bin", "sbin", "lib", "lib64"})
    EXPECT_EQ(std::filesystem::read_symlink(nano_.dir / link), std::string("usr/") + link);
  // No gconv modules, no locales, no documentation.
  EXPECT_FALSE(exists(nano_.dir / "usr/lib/x86_64-linux-gnu/gconv"));
  EXPECT_FALSE(exists(nano_.dir / "usr/share/locale"));
  EXPECT_FALSE(exists(nano_.dir / "usr/share/doc"));
}

// Every shared object and program in the tree finds the libraries it names
// (DT_NEEDED) in the tree: the slices make a closed set.
TEST_F(NanoTest, LibrariesAreAClosedSet) {
  BUILT(nano_, "nano");
  if (!find_program("readelf")) GTEST_SKIP() << "readelf (binutils) is not installed";
  std::set<std::string> present;
  std::vector<std::filesystem::path> elves;
  for (auto it = std::filesystem::recursive_directory_iterator(nano_.dir);
       it != std::filesystem::recursive_directory_iterator(); ++it) {
    if (it->path().parent_path().filename().string().find("-linux-gnu") != std::string::npos)
      present.insert(it->path().filename().string());
    if (!it->is_symlink() && it->is_regular_file() && read_file(it->path()).starts_with("\x7f" "ELF"))
      elves.push_back(it->path());
  }
  ASSERT_GT(elves.size(), 5u);
  for (const auto& elf : elves) {
    auto dynamic = run_command({"readelf", "-d", elf.string()});
    std::istringstream in(dynamic.out);
    for (std::string line; std::getline(in, line);) {
      auto open = line.find("Shared library: [");
      if (open == std::string::npos) continue;
      std::string needed = line.substr(open + 17, line.find(']', open) - open - 17);
      EXPECT_TRUE(present.contains(needed)) << elf << " needs " << needed << ", which nano lacks";
    }
  }
}

TEST_F(NanoTest, OwnersAndMtimesAreFixed) {
  BUILT(nano_, "nano");
  for (auto it = std::filesystem::recursive_directory_iterator(nano_.dir);
       it != std::filesystem::recursive_directory_iterator(); ++it) {
    struct stat st;
    ASSERT_EQ(::lstat(it->path().c_str(), &st), 0);
    EXPECT_LE(st.st_mtim.tv_sec, nano_.spec.source_date_epoch) << it->path();
    bool home = it->path() == nano_.dir / "home/containeruser";
    EXPECT_EQ(st.st_uid, home ? 1000u : 0u) << it->path();
  }
}

TEST_F(NanoTest, TwoBuildsGiveTheSameTree) {
  BUILT(nano_, "nano");
  auto again = build("nano", "nano-again");
  EXPECT_EQ(tree_listing(again.dir), tree_listing(nano_.dir));
  EXPECT_EQ(tree_digest(again.dir), tree_digest(nano_.dir));
  EXPECT_EQ(again.spec.to_oci_config(), nano_.spec.to_oci_config());
  remove_tree(again.dir);
}

TEST_F(NanoTest, Sizes) {
  BUILT(nano_, "nano");
  BUILT(noshell_, "nano-noshell");
  auto nano = measure_tree(nano_.dir);
  auto noshell = measure_tree(noshell_.dir);
  std::printf("nano:         %llu bytes unpacked, %llu bytes tar.gz, %llu entries\n",
              static_cast<unsigned long long>(nano.unpacked_bytes),
              static_cast<unsigned long long>(nano.tar_gzip_bytes), static_cast<unsigned long long>(nano.entries));
  std::printf("nano-noshell: %llu bytes unpacked, %llu bytes tar.gz, %llu entries\n",
              static_cast<unsigned long long>(noshell.unpacked_bytes),
              static_cast<unsigned long long>(noshell.tar_gzip_bytes),
              static_cast<unsigned long long>(noshell.entries));
  RecordProperty("nano_tar_gzip_bytes", std::to_string(nano.tar_gzip_bytes));
  RecordProperty("nano_noshell_tar_gzip_bytes", std::to_string(noshell.tar_gzip_bytes));
  EXPECT_GT(nano.unpacked_bytes, nano.tar_gzip_bytes);
  EXPECT_GT(nano.tar_bytes, nano.unpacked_bytes);
  // noshell is nano minus busybox: smaller by at least the busybox binary's compressed size.
  auto busybox = std::filesystem::file_size(nano_.dir / "usr/bin/busybox");
  EXPECT_LT(noshell.unpacked_bytes + busybox, nano.unpacked_bytes + 4096);
  EXPECT_LT(noshell.tar_gzip_bytes, nano.tar_gzip_bytes);
}

TEST_F(NanoTest, UnknownReleaseIsOneLineNamingIt) {
  BuildOptions options;
  options.cache_dir = work_->path() / "cache";
  options.definitions_dir = SKIFF_TEST_IMAGES_DIR;
  options.release = "nosuchrelease";
  auto out = work_->path() / "never";
  try {
    build_rootfs("nano", out, options);
    FAIL() << "a release that does not exist was built";
  } catch (const Error& e) {
    std::string message = e.what();
    EXPECT_EQ(e.kind(), ErrorKind::not_found) << message;
    EXPECT_NE(message.find("nosuchrelease"), std::string::npos) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  }
  EXPECT_FALSE(exists(out));
  EXPECT_FALSE(exists(options.cache_dir / "apt/nosuchrelease"));
}

// Mistakes only a build can see still name the definition's line.
TEST_F(NanoTest, BuildErrorsNameTheDefinition) {
  auto dir = work_->path() / "definitions";
  ensure_dir(dir);
  write_file_atomic(dir / "typo.slices", "image typo\npackage netbase\n    /etc/services\n    /etc/no-such-file\n");
  write_file_atomic(dir / "missing.slices", "image missing\npackage no-such-package-skiff\n    /x\n");
  BuildOptions options;
  options.cache_dir = SKIFF_TEST_CACHE_DIR;
  options.definitions_dir = dir;
  auto out = work_->path() / "never";
  try {
    build_rootfs("typo", out, options);
    FAIL() << "a rule that matches nothing was accepted";
  } catch (const Error& e) {
    if (e.kind() == ErrorKind::unavailable) GTEST_SKIP() << e.what();
    std::string message = e.what();
    EXPECT_TRUE(message.starts_with((dir / "typo.slices").string() + ":4: /etc/no-such-file matches nothing in netbase "))
        << message;
  }
  try {
    build_rootfs("missing", out, options);
    FAIL() << "an unknown package was accepted";
  } catch (const Error& e) {
    std::string message = e.what();
    EXPECT_EQ(e.kind(), ErrorKind::not_found) << message;
    EXPECT_NE(message.find("no-such-package-skiff"), std::string::npos) << message;
    EXPECT_TRUE(message.starts_with((dir / "missing.slices").string())) << message;
  }
  EXPECT_FALSE(exists(out));
}

TEST_F(NanoTest, CliRootfsCommand) {
  BUILT(noshell_, "nano-noshell");
  skiff::test::SkiffCli cli;
  cli.env.push_back(std::string("SKIFF_IMAGES_DIR=") + SKIFF_TEST_IMAGES_DIR);
  auto bad = cli.run({"base", "rootfs", "nano", (cli.root() / "out").string(), "--release", "nosuchrelease"});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("nosuchrelease"), std::string::npos) << bad.err;
  EXPECT_EQ(std::count(bad.err.begin(), bad.err.end(), '\n'), 1) << bad.err;
  EXPECT_FALSE(exists(cli.root() / "out"));

  auto unknown = cli.run({"base", "rootfs", "pico", (cli.root() / "out").string()});
  EXPECT_NE(unknown.exit_code, 0);
  EXPECT_NE(unknown.err.find("unknown base image flavour \"pico\""), std::string::npos) << unknown.err;

  auto out = cli.ok({"base", "rootfs", "nano-noshell", (cli.root() / "out").string(), "--format", "json"});
  auto json = Json::parse(out);
  EXPECT_EQ(json["Flavour"], "nano-noshell");
  EXPECT_EQ(json["TreeDigest"], tree_digest(noshell_.dir));  // same tree as the library built
  EXPECT_GT(json["Size"]["TarGzip"].get<std::uint64_t>(), 0u);
}

}  // namespace
}  // namespace skiff::base
