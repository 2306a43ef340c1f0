// Authentication against real registries: TLS with Basic auth (htpasswd),
// and bearer tokens from a token service; skiff login/logout keep docker's
// credential file.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "../image/image_fixture.h"
#include "registry/auth.h"

namespace skiff::test {

namespace {

class Login : public ImageTest {
 protected:
  std::filesystem::path credentials() { return work.path() / "docker" / "config.json"; }

  CommandResult login(const std::string& host, const std::string& password) {
    CommandOptions options;
    options.input = password + "\n";
    return skiff.run({"login", "-u", TestRegistry::user, "--password-stdin", host}, options);
  }

  // Pull refused without credentials, login, pull, logout, refused again.
  void round_trip(TestRegistry& registry) {
    use(registry);
    auto image = seed(registry, "team/private:v1", {50000});
    std::string before = store_listing(skiff);
    auto refused = skiff.run({"pull", image.ref});
    EXPECT_NE(refused.exit_code, 0);
    EXPECT_EQ(count_lines(refused.err), 1) << refused.err;
    EXPECT_NE(refused.err.find("skiff login " + registry.host()), std::string::npos) << refused.err;
    EXPECT_EQ(store_listing(skiff), before);

    auto wrong = login(registry.host(), "not-the-password");
    EXPECT_NE(wrong.exit_code, 0);
    EXPECT_EQ(count_lines(wrong.err), 1) << wrong.err;
    EXPECT_FALSE(std::filesystem::exists(credentials())) << "a failed login stores nothing";

    auto ok = login(registry.host(), TestRegistry::password);
    ASSERT_EQ(ok.exit_code, 0) << ok.err;
    EXPECT_EQ(ok.out, "Login Succeeded\n");
    struct stat st {};
    ASSERT_EQ(::stat(credentials().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    Json file = parse_json(read_file(credentials()), "config.json");
    EXPECT_EQ(registry::base64_decode(file["auths"][registry.host()]["auth"].get<std::string>()),
              std::string(TestRegistry::user) + ":" + TestRegistry::password);

    skiff.ok({"pull", "-q", image.ref});
    EXPECT_NE(skiff.ok({"images", "-q"}), "");

    EXPECT_EQ(skiff.ok({"logout", registry.host()}), "Removing login credentials for " + registry.host() + "\n");
    EXPECT_EQ(skiff.ok({"logout", registry.host()}), "Not logged in to " + registry.host() + "\n");
    skiff.ok({"rmi", image.ref});
    EXPECT_NE(skiff.run({"pull", image.ref}).exit_code, 0);
  }
};

TEST_F(Login, TlsWithBasicAuth) {
  TestRegistry registry({.tls = true, .auth = RegistryAuth::basic});
  round_trip(registry);
}

TEST_F(Login, BearerTokens) {
  TestRegistry registry({.tls = false, .auth = RegistryAuth::token});
  round_trip(registry);
}

TEST_F(Login, TlsWithTokensAndPush) {
  TestRegistry registry({.tls = true, .auth = RegistryAuth::token});
  use(registry);
  auto image = seed(registry, "team/app:v1", {1000});
  ASSERT_EQ(login(registry.host(), TestRegistry::password).exit_code, 0);
  skiff.ok({"pull", "-q", image.ref});
  skiff.ok({"tag", image.ref, registry.ref("team/copy:v2")});
  skiff.ok({"push", registry.ref("team/copy:v2")});
  // Mounted from team/app: no blob upload was needed.
  EXPECT_EQ(registry.log().find("PUT /v2/team/copy/blobs/uploads"), std::string::npos) << registry.log();
}

TEST_F(Login, KeepsOtherEntriesOfTheCredentialFile) {
  ensure_dir(credentials().parent_path());
  write_file_atomic(credentials(),
                    R"({"auths":{"other.example:5000":{"auth":"dTpw"}},"credsStore":"","psFormat":"table"})", 0600);
  TestRegistry registry({.tls = false, .auth = RegistryAuth::basic});
  use(registry);
  ASSERT_EQ(login(registry.host(), TestRegistry::password).exit_code, 0);
  Json file = parse_json(read_file(credentials()), "config.json");
  EXPECT_EQ(file["psFormat"], "table");
  EXPECT_EQ(file["auths"]["other.example:5000"]["auth"], "dTpw");
  EXPECT_TRUE(file["auths"].contains(registry.host()));
  skiff.ok({"logout", registry.host()});
  file = parse_json(read_file(credentials()), "config.json");
  EXPECT_FALSE(file["auths"].contains(registry.host()));
  EXPECT_EQ(file["auths"]["other.example:5000"]["auth"], "dTpw");
}

TEST_F(Login, WrongCertificateAuthorityIsRefused) {
  TestRegistry registry({.tls = true});
  // Another CA claims this registry: verification must fail.
  TestRegistry other({.tls = true});
  auto certs = work.path() / "certs.d";
  ensure_dir(certs / registry.host());
  std::filesystem::copy_file(other.certs_dir() / other.host() / "ca.crt", certs / registry.host() / "ca.crt");
  skiff.env = {"SKIFF_CERTS_DIR=" + certs.string(), "DOCKER_CONFIG=" + (work.path() / "docker").string()};
  auto r = skiff.run({"pull", registry.ref("team/app:v1")});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_EQ(count_lines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find("TLS"), std::string::npos) << r.err;
  // With the right CA the same registry answers (not found: it is empty).
  use(registry);
  r = skiff.run({"pull", registry.ref("team/app:v1")});
  EXPECT_NE(r.err.find("not found"), std::string::npos) << r.err;
}

TEST_F(Login, BadArguments) {
  for (auto args : std::vector<std::vector<std::string>>{
           {"login", "--password-stdin", "127.0.0.1:5000"},
           {"login", "-u", "x", "--password-stdin", "https://host/path/more"},
           {"logout", "host with space"}}) {
    CommandOptions options;
    options.input = "pw\n";
    auto r = skiff.run(args, options);
    EXPECT_NE(r.exit_code, 0) << args[0];
    EXPECT_EQ(count_lines(r.err), 1) << r.err;
  }
}

}  // namespace
}  // namespace skiff::test
