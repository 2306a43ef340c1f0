// Bad input to pull: each a one-line error, a non-zero exit, the store
// unchanged.
#include <gtest/gtest.h>

#include "image_fixture.h"

namespace skiff::test {

namespace {

class PullErrors : public ImageTest {
 protected:
  Json registry_error(const std::string& code, const std::string& message) {
    return {{"errors", {{{"code", code}, {"message", message}}}}};
  }
};

TEST_F(PullErrors, MalformedReferences) {
  struct Case {
    std::string reference, names;
  };
  for (const auto& c : std::vector<Case>{{"Team/App", "lowercase"},
                                         {"127.0.0.1:5000/app@sha256:123", "digest"},
                                         {"127.0.0.1:5000/app:bad!tag", "tag"},
                                         {":v1", "repository"},
                                         {"127.0.0.1:5000/", "repository name"},
                                         {"127.0.0.1:5000/a//b", "path component"}}) {
    std::string err = refused({"pull", c.reference});
    EXPECT_NE(err.find("invalid reference"), std::string::npos) << err;
    EXPECT_NE(err.find(c.names), std::string::npos) << c.reference << ": " << err;
  }
}

TEST_F(PullErrors, ShortNameWithoutDefaultRegistry) {
  std::string err = refused({"pull", "debian"});
  EXPECT_NE(err.find("default-registry"), std::string::npos) << err;
}

TEST_F(PullErrors, UnknownHostAndRefusedConnection) {
  std::string err = refused({"pull", "registry.skiff-test.invalid/app:v1"});
  EXPECT_NE(err.find("registry.skiff-test.invalid"), std::string::npos) << err;
  EXPECT_NE(err.find("unknown host"), std::string::npos) << err;
  std::string closed = "127.0.0.1:" + std::to_string(free_port());
  err = refused({"pull", closed + "/app:v1"});
  EXPECT_NE(err.find(closed), std::string::npos) << err;
  EXPECT_NE(err.find("unreachable"), std::string::npos) << err;
}

TEST_F(PullErrors, UnknownRepositoryAndTag) {
  TestRegistry registry;
  use(registry);
  auto image = seed(registry, "team/app:v1", {100});
  std::string err = refused({"pull", registry.ref("team/nothing:v1")});
  EXPECT_NE(err.find("not found"), std::string::npos) << err;
  err = refused({"pull", registry.ref("team/app:v2")});
  EXPECT_NE(err.find("MANIFEST_UNKNOWN"), std::string::npos) << err;
}

TEST_F(PullErrors, ServerErrors) {
  FakeRegistry fake({{"GET /v2/", {{"status", 200}, {"body", "{}"}}},
                     {"HEAD /v2/app/manifests/v1", {{"status", 500}}},
                     {"GET /v2/app/manifests/v1",
                      {{"status", 500}, {"body", registry_error("UNKNOWN", "storage backend exploded").dump()}}},
                     {"HEAD /v2/locked/manifests/v1", {{"status", 401}}},
                     {"GET /v2/locked/manifests/v1", {{"status", 401}}},
                     {"HEAD /v2/denied/manifests/v1", {{"status", 403}}},
                     {"GET /v2/denied/manifests/v1",
                      {{"status", 403}, {"body", registry_error("DENIED", "requested access to the resource is denied").dump()}}}});
  std::string err = refused({"pull", fake.host() + "/app:v1"});
  EXPECT_NE(err.find("500"), std::string::npos) << err;
  EXPECT_NE(err.find("try again later"), std::string::npos) << err;
  err = refused({"pull", fake.host() + "/locked:v1"});
  EXPECT_NE(err.find("401"), std::string::npos) << err;
  EXPECT_NE(err.find("skiff login " + fake.host()), std::string::npos) << err;
  err = refused({"pull", fake.host() + "/denied:v1"});
  EXPECT_NE(err.find("denied"), std::string::npos) << err;
}

TEST_F(PullErrors, UnknownMediaTypesAndSchema1) {
  Json artifact = {{"schemaVersion", 2},
                   {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                   {"config", {{"mediaType", "application/vnd.cncf.helm.config.v1+json"},
                               {"digest", "sha256:" + std::string(64, 'a')}, {"size", 10}}},
                   {"layers", Json::array()}};
  Json odd_layer = artifact;
  odd_layer["config"]["mediaType"] = "application/vnd.oci.image.config.v1+json";
  odd_layer["layers"] = {{{"mediaType", "application/x-tar+lzip"}, {"digest", "sha256:" + std::string(64, 'b')},
                          {"size", 10}}};
  Json schema1 = {{"schemaVersion", 1}, {"name", "old"}, {"tag", "v1"}, {"fsLayers", Json::array()}};
  auto route = [](const std::string& type, const std::string& body) {
    return Json{{"status", 200}, {"headers", {{"Content-Type", type}}}, {"body", body}};
  };
  FakeRegistry fake({{"GET /v2/", {{"status", 200}, {"body", "{}"}}},
                     {"GET /v2/odd/manifests/v1", route("application/vnd.example.thing+json", R"({"schemaVersion":2})")},
                     {"GET /v2/helm/manifests/v1", route("application/vnd.oci.image.manifest.v1+json", artifact.dump())},
                     {"GET /v2/layer/manifests/v1", route("application/vnd.oci.image.manifest.v1+json", odd_layer.dump())},
                     {"GET /v2/old/manifests/v1",
                      route("application/vnd.docker.distribution.manifest.v1+prettyjws", schema1.dump())}});
  std::string err = refused({"pull", fake.host() + "/odd:v1"});
  EXPECT_NE(err.find("application/vnd.example.thing+json"), std::string::npos) << err;
  err = refused({"pull", fake.host() + "/helm:v1"});
  EXPECT_NE(err.find("application/vnd.cncf.helm.config.v1+json"), std::string::npos) << err;
  err = refused({"pull", fake.host() + "/layer:v1"});
  EXPECT_NE(err.find("application/x-tar+lzip"), std::string::npos) << err;
  err = refused({"pull", fake.host() + "/old:v1"});
  EXPECT_NE(err.find("schema 1"), std::string::npos) << err;
}

TEST_F(PullErrors, OversizedManifestAndConfig) {
  Json big_config = {{"schemaVersion", 2},
                     {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                     {"config", {{"mediaType", "application/vnd.oci.image.config.v1+json"},
                                 {"digest", "sha256:" + std::string(64, 'c')}, {"size", 64 << 20}}},
                     {"layers", Json::array()}};
  FakeRegistry fake({{"GET /v2/", {{"status", 200}, {"body", "{}"}}},
                     {"GET /v2/huge/manifests/v1",
                      {{"status", 200}, {"headers", {{"Content-Type", "application/vnd.oci.image.manifest.v1+json"}}},
                       {"body_size", 5 << 20}}},
                     {"GET /v2/bigconfig/manifests/v1",
                      {{"status", 200}, {"headers", {{"Content-Type", "application/vnd.oci.image.manifest.v1+json"}}},
                       {"body", big_config.dump()}}}});
  std::string err = refused({"pull", fake.host() + "/huge:v1"});
  EXPECT_NE(err.find("limit"), std::string::npos) << err;
  err = refused({"pull", fake.host() + "/bigconfig:v1"});
  EXPECT_NE(err.find("limit"), std::string::npos) << err;
  // The config was refused before any transfer.
  for (const auto& request : fake.requests()) EXPECT_EQ(request.find("/blobs/"), std::string::npos) << request;
}

TEST_F(PullErrors, TamperedBlobIsRefusedAndNothingStored) {
  TestRegistry registry;
  use(registry);
  auto image = seed(registry, "team/app:v1", {200000});
  // Same length, different bytes: only the digest can tell.
  auto path = registry.blob_data(image.layers[0].digest);
  std::string data = read_file(path);
  data[data.size() / 2] ^= 0x5a;
  data[data.size() / 3] ^= 0x5a;
  write_file_atomic(path, data, 0644, false);
  std::string err = refused({"pull", image.ref});
  EXPECT_NE(err.find("layer " + image.layers[0].digest.str() + " digest mismatch (got " + sha256_of(data).str() + ")"),
            std::string::npos) << err;
  EXPECT_NE(err.find("nothing was stored"), std::string::npos) << err;
  EXPECT_EQ(skiff.ok({"images", "-q"}), "");
  // The corrupt bytes were discarded, not kept for a resume.
  auto ingest = skiff.root() / "content/ingest" / image.layers[0].digest.hex();
  EXPECT_FALSE(std::filesystem::exists(ingest / "data"));
}

TEST_F(PullErrors, TruncatedBlobIsRefused) {
  TestRegistry registry;
  use(registry);
  auto image = seed(registry, "team/app:v1", {200000});
  auto path = registry.blob_data(image.layers[0].digest);
  std::string data = read_file(path);
  write_file_atomic(path, data.substr(0, data.size() / 2), 0644, false);
  std::string err = refused({"pull", image.ref});
  EXPECT_NE(err.find(image.layers[0].digest.str()), std::string::npos) << err;
  EXPECT_EQ(skiff.ok({"images", "-q"}), "");
}

TEST_F(PullErrors, TamperedConfigIsRefused) {
  TestRegistry registry;
  use(registry);
  auto image = seed(registry, "team/app:v1", {1000});
  auto path = registry.blob_data(image.config.digest);
  std::string data = read_file(path);
  data[data.size() - 2] = data[data.size() - 2] == ' ' ? '\t' : ' ';
  write_file_atomic(path, data, 0644, false);
  std::string err = refused({"pull", image.ref});
  EXPECT_NE(err.find("config " + image.config.digest.str() + " digest mismatch"), std::string::npos) << err;
}

}  // namespace
}  // namespace skiff::test
