// `skiff runtime` (and the binary called as skiff-runtime) driven like runc on
// an OCI bundle made from a busybox tree: spec, create, start, state, kill,
// delete; and podman --runtime when podman is installed.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "core/fs.h"
#include "core/json.h"
#include "core/subprocess.h"
#include "support/skiff_cli.h"
#include "support/test_images.h"

namespace skiff::test {
namespace {

namespace fs = std::filesystem;

std::string slurp(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The container's init, once its runtime has gone, belongs to the host's
// pid 1, which may be slow to reap it: a zombie has ended all the same.
bool running(int pid) {
  std::string status = slurp("/proc/" + std::to_string(pid) + "/status");
  return !status.empty() && status.find("State:\tZ") == std::string::npos;
}

class OciRuntimeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!running_as_root()) GTEST_SKIP() << "the OCI runtime needs root (namespaces, mounts, cgroups)";
    if (!have_busybox()) GTEST_SKIP() << "busybox-static missing: apt-get install busybox-static";
    bundle_ = temp_.path() / "bundle";
    state_ = temp_.path() / "state";
    make_busybox_tree(bundle_ / "rootfs");
    fs::create_symlink(skiff_binary(), temp_.path() / "skiff-runtime");
  }

  // skiff-runtime --root STATE ARGS…, its stdio on files (a container
  // started by create keeps them open: a pipe would never see EOF).
  CommandResult runtime(const std::vector<std::string>& args) const {
    std::vector<std::string> argv = {(temp_.path() / "skiff-runtime").string(), "--root", state_.string()};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<char*> c_argv;
    for (auto& a : argv) c_argv.push_back(a.data());
    c_argv.push_back(nullptr);
    fs::path out = temp_.path() / "out", err = temp_.path() / "err";
    pid_t pid = ::fork();
    if (pid == 0) {
      ::dup2(::open("/dev/null", O_RDONLY), 0);
      ::dup2(::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600), 1);
      ::dup2(::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600), 2);
      ::execv(c_argv[0], c_argv.data());
      ::_exit(127);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    return {exit_code_from_status(status), slurp(out), slurp(err)};
  }
  std::string ok(const std::vector<std::string>& args) const {
    auto r = runtime(args);
    EXPECT_EQ(r.exit_code, 0) << args.at(0) << ": " << r.err;
    return r.out;
  }
  Json state(const std::string& id) const { return Json::parse(ok({"state", id})); }

  void set_args(const std::vector<std::string>& args) {
    Json config = Json::parse(slurp(bundle_ / "config.json"));
    config["process"]["args"] = args;
    config["process"]["terminal"] = false;
    std::ofstream(bundle_ / "config.json") << config.dump(2);
  }

  TempDir temp_{fs::path("/var/tmp"), "skiff-oci-test-"};
  fs::path bundle_, state_;
};

TEST_F(OciRuntimeTest, SpecWritesADefaultConfig) {
  ok({"spec", "--bundle", bundle_.string()});
  Json config = Json::parse(slurp(bundle_ / "config.json"));
  EXPECT_TRUE(config.contains("ociVersion"));
  EXPECT_EQ(config["root"]["path"], "rootfs");
  EXPECT_TRUE(config["process"].value("noNewPrivileges", false));
  // A second spec refuses to overwrite, as runc does.
  EXPECT_NE(runtime({"spec", "--bundle", bundle_.string()}).exit_code, 0);
}

TEST_F(OciRuntimeTest, CreateStartStateKillDelete) {
  ok({"spec", "--bundle", bundle_.string()});
  set_args({"sh", "-c", "trap 'echo term > /got-term; exit 0' TERM; echo up > /started; while :; do sleep 0.1; done"});
  std::string id = "oci-" + std::to_string(::getpid());
  fs::path pid_file = temp_.path() / "pid";
  ok({"create", "--bundle", bundle_.string(), "--pid-file", pid_file.string(), id});
  Json created = state(id);
  EXPECT_EQ(created["status"], "created") << created.dump();
  EXPECT_EQ(created["id"], id);
  EXPECT_EQ(fs::path(created.value("bundle", "")), fs::absolute(bundle_));
  int pid = std::stoi(slurp(pid_file));
  EXPECT_EQ(created["pid"].get<int>(), pid);
  EXPECT_FALSE(fs::exists(bundle_ / "rootfs/started"));  // waits for start

  ok({"start", id});
  for (int i = 0; i < 400 && !fs::exists(bundle_ / "rootfs/started"); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  ASSERT_TRUE(fs::exists(bundle_ / "rootfs/started"));
  EXPECT_EQ(state(id)["status"], "running");
  // A running container cannot be deleted without --force.
  EXPECT_NE(runtime({"delete", id}).exit_code, 0);

  ok({"kill", id, "TERM"});
  Json after;
  for (int i = 0; i < 400; ++i) {
    after = state(id);
    if (after["status"] == "stopped") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  EXPECT_EQ(after["status"], "stopped") << after.dump();
  EXPECT_TRUE(fs::exists(bundle_ / "rootfs/got-term"));
  ok({"delete", id});
  EXPECT_NE(runtime({"state", id}).exit_code, 0);
  EXPECT_FALSE(running(pid)) << slurp("/proc/" + std::to_string(pid) + "/status");
}

TEST_F(OciRuntimeTest, RunPassesTheExitStatusThrough) {
  ok({"spec", "--bundle", bundle_.string()});
  set_args({"sh", "-c", "echo $$; hostname; exit 5"});
  auto r = runtime({"run", "--bundle", bundle_.string(), "oci-run-" + std::to_string(::getpid())});
  EXPECT_EQ(r.exit_code, 5) << r.err;
  EXPECT_EQ(r.out.substr(0, 2), "1\n") << r.out;
}

TEST_F(OciRuntimeTest, DeleteForceKillsARunningContainer) {
  ok({"spec", "--bundle", bundle_.string()});
  set_args({"sleep", "300"});
  std::string id = "oci-force-" + std::to_string(::getpid());
  ok({"create", "--bundle", bundle_.string(), id});
  ok({"start", id});
  int pid = state(id)["pid"].get<int>();
  ok({"delete", "--force", id});
  EXPECT_NE(runtime({"state", id}).exit_code, 0);
  EXPECT_FALSE(running(pid)) << slurp("/proc/" + std::to_string(pid) + "/status");
}

// podman drives skiff-runtime as it drives runc (PEERS.md: its own storage,
// cgroupfs, rlimits within this sandbox's hard limits, no network).
TEST_F(OciRuntimeTest, PodmanRunsAnImageWithSkiffAsItsRuntime) {
  if (!find_program("podman")) GTEST_SKIP() << "podman missing: apt-get install podman";
  if (!find_program("timeout")) GTEST_SKIP() << "timeout (coreutils) missing";
  fs::path store = temp_.path() / "podman";
  std::vector<std::string> podman = {"timeout", "120", "podman", "--root", (store / "root").string(),
                                     "--runroot", (store / "run").string(), "--storage-driver", "vfs",
                                     "--cgroup-manager", "cgroupfs", "--events-backend", "file"};
  auto with = [&](std::vector<std::string> args) {
    std::vector<std::string> argv = podman;
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
  };
  CommandOptions tar_in;
  tar_in.input = check_output({"tar", "-C", (bundle_ / "rootfs").string(), "-c", "."});
  auto imported = run_command(with({"import", "-", "localhost/skiff-oci-test:latest"}), tar_in);
  ASSERT_EQ(imported.exit_code, 0) << imported.err;
  auto r = run_command(with({"--runtime", (temp_.path() / "skiff-runtime").string(), "run", "--rm", "--network", "none",
                             "--hostname", "podded", "--ulimit", "nofile=20000:20000", "--ulimit", "nproc=32768:32768",
                             "localhost/skiff-oci-test:latest", "sh", "-c",
                             "echo pid=$$ host=$(hostname); grep Seccomp: /proc/self/status; exit 4"}));
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_NE(r.out.find("pid=1 host=podded"), std::string::npos) << r.out << r.err;
  // podman's default seccomp profile, applied by skiff-runtime.
  EXPECT_NE(r.out.find("Seccomp:\t2"), std::string::npos) << r.out;
  run_command(with({"rmi", "-af"}));
}

}  // namespace
}  // namespace skiff::test
