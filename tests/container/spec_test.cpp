#include "container/spec.h"

#include <gtest/gtest.h>

#include "core/error.h"
#include "core/fs.h"

namespace skiff::container {

namespace {
// The shape of the runtime's default spec, reduced to what these tests touch.
Json base_spec() {
  return Json::parse(R"({
    "ociVersion": "1.1.0",
    "process": {"user": {"uid": 0, "gid": 0}, "args": ["sh"], "cwd": "/", "noNewPrivileges": true,
                "capabilities": {"bounding": ["CAP_CHOWN", "CAP_KILL", "CAP_SETUID"],
                                 "effective": ["CAP_CHOWN", "CAP_KILL", "CAP_SETUID"],
                                 "permitted": ["CAP_CHOWN", "CAP_KILL", "CAP_SETUID"]}},
    "root": {"path": "rootfs"},
    "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"},
               {"destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": ["size=65536k"]}],
    "linux": {"namespaces": [{"type": "pid"}, {"type": "network"}, {"type": "mount"}],
              "seccomp": {"defaultAction": "SCMP_ACT_ERRNO"}}
  })");
}

struct Fixture {
  TempDir dir;
  RunOptions options;
  Json image = Json::parse(R"({"Env": ["PATH=/usr/bin:/bin"], "Cmd": ["/app"], "WorkingDir": "/srv"})");
  Json make(User user = {}) {
    SpecInputs in{options, image, dir.path() / "rootfs", user, "box", "/skiff/abc", dir.path() / "etc"};
    return make_runtime_spec(base_spec(), in);
  }
  std::vector<std::string> caps(const Json& spec, const char* set = "bounding") {
    return spec["process"]["capabilities"][set].get<std::vector<std::string>>();
  }
};
}  // namespace

TEST(Spec, ImageConfigBecomesTheProcess) {
  Fixture f;
  f.options.image = "app";
  User user;
  user.uid = 1000;
  user.gid = 1000;
  user.additional_gids = {50};
  user.home = "/home/containeruser";
  Json spec = f.make(user);
  EXPECT_EQ(spec["process"]["args"], Json::array({"/app"}));
  EXPECT_EQ(spec["process"]["cwd"], "/srv");
  EXPECT_EQ(spec["process"]["user"]["uid"], 1000);
  EXPECT_EQ(spec["process"]["user"]["additionalGids"], Json::array({50}));
  EXPECT_EQ(spec["hostname"], "box");
  EXPECT_EQ(spec["root"]["path"], (f.dir.path() / "rootfs").string());
  EXPECT_EQ(spec["linux"]["cgroupsPath"], "/skiff/abc");
  auto env = spec["process"]["env"].get<std::vector<std::string>>();
  EXPECT_NE(std::find(env.begin(), env.end(), "HOME=/home/containeruser"), env.end());
  EXPECT_TRUE(spec["process"]["noNewPrivileges"].get<bool>());
  EXPECT_TRUE(spec["linux"].contains("seccomp"));
}

TEST(Spec, NetworkHostDropsTheNamespace) {
  Fixture f;
  f.options.network = "host";
  Json spec = f.make();
  for (const auto& ns : spec["linux"]["namespaces"]) EXPECT_NE(ns["type"], "network");
  f.options.network = "bridge";
  EXPECT_THROW(f.make(), Error);
}

TEST(Spec, ResourceLimits) {
  Fixture f;
  f.options.memory = "64m";
  f.options.cpus = 0.5;
  f.options.pids_limit = 100;
  Json spec = f.make();
  EXPECT_EQ(spec["linux"]["resources"]["memory"]["limit"], 64 << 20);
  EXPECT_EQ(spec["linux"]["resources"]["cpu"]["quota"], 50000);
  EXPECT_EQ(spec["linux"]["resources"]["pids"]["limit"], 100);
  f.options.memory = "1k";
  EXPECT_THROW(f.make(), Error);
}

TEST(Spec, CapabilitiesDropThenAdd) {
  Fixture f;
  f.options.cap_drop = {"ALL"};
  f.options.cap_add = {"net_bind_service"};
  EXPECT_EQ(f.caps(f.make()), std::vector<std::string>{"CAP_NET_BIND_SERVICE"});
  f.options.cap_drop = {"kill"};
  f.options.cap_add = {};
  EXPECT_EQ(f.caps(f.make()), (std::vector<std::string>{"CAP_CHOWN", "CAP_SETUID"}));
  f.options.cap_add = {"CAP_FLY"};
  EXPECT_THROW(f.make(), Error);
}

TEST(Spec, MountsReplaceDefaultsAtTheSamePlace) {
  Fixture f;
  ensure_dir(f.dir.path() / "data");
  f.options.volumes = {(f.dir.path() / "data").string() + ":/data:ro"};
  f.options.tmpfs = {"/dev/shm:size=1m", "/scratch"};
  Json spec = f.make();
  int shm = 0;
  bool data_ro = false, scratch = false, hosts = false;
  for (const auto& m : spec["mounts"]) {
    if (m["destination"] == "/dev/shm") {
      ++shm;
      EXPECT_NE(std::find(m["options"].begin(), m["options"].end(), "size=1m"), m["options"].end());
    }
    if (m["destination"] == "/data")
      data_ro = std::find(m["options"].begin(), m["options"].end(), "ro") != m["options"].end();
    if (m["destination"] == "/scratch") scratch = true;
    if (m["destination"] == "/etc/hosts") hosts = true;
  }
  EXPECT_EQ(shm, 1);
  EXPECT_TRUE(data_ro);
  EXPECT_TRUE(scratch);
  EXPECT_TRUE(hosts);
  f.options.volumes = {"/definitely/not/here:/x"};
  EXPECT_THROW(f.make(), Error);
}

TEST(Spec, SecurityOptions) {
  Fixture f;
  f.options.security_opts = {"seccomp=unconfined", "no-new-privileges:false"};
  Json spec = f.make();
  EXPECT_FALSE(spec["linux"].contains("seccomp"));
  EXPECT_FALSE(spec["process"]["noNewPrivileges"].get<bool>());
  write_file_atomic(f.dir.path() / "profile.json",
                    R"({"defaultAction": "SCMP_ACT_ALLOW", "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86"]}], "syscalls": []})");
  f.options.security_opts = {"seccomp=" + (f.dir.path() / "profile.json").string()};
  spec = f.make();
  EXPECT_EQ(spec["linux"]["seccomp"]["defaultAction"], "SCMP_ACT_ALLOW");
  EXPECT_EQ(spec["linux"]["seccomp"]["architectures"], Json::array({"SCMP_ARCH_X86_64", "SCMP_ARCH_X86"}));
  f.options.security_opts = {"seccomp=/nonexistent.json"};
  EXPECT_THROW(f.make(), Error);
  f.options.security_opts = {"turbo=on"};
  EXPECT_THROW(f.make(), Error);
}

TEST(Spec, EtcFiles) {
  TempDir dir;
  write_etc_files(dir.path(), "web", "none");
  EXPECT_EQ(read_file(dir.path() / "hostname"), "web\n");
  EXPECT_NE(read_file(dir.path() / "hosts").find("localhost"), std::string::npos);
  EXPECT_NE(read_file(dir.path() / "hosts").find("web"), std::string::npos);
  EXPECT_TRUE(fs::exists(dir.path() / "resolv.conf"));
}

}  // namespace skiff::container
