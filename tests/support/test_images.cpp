#include "support/test_images.h"

#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "core/fs.h"
#include "core/root.h"
#include "core/subprocess.h"
#include "image/assemble.h"
#include "snapshot/diff.h"

namespace skiff::test {

namespace {
constexpr const char* busybox = "/bin/busybox";
}

bool have_busybox() {
  // busybox-static: a dynamically linked busybox would need the host's libc in the image.
  if (::access(busybox, X_OK) != 0) return false;
  auto out = run_command({"ldd", busybox});
  return out.out.find("not a dynamic executable") != std::string::npos ||
         out.err.find("not a dynamic executable") != std::string::npos;
}

void make_busybox_tree(const std::filesystem::path& dir, const TestImage& image) {
  for (const char* d : {"bin", "etc", "tmp", "root", "home/containeruser", "proc", "sys", "dev"})
    ensure_dir(dir / d);
  ::chmod((dir / "tmp").c_str(), 01777);
  ::chown((dir / "home/containeruser").c_str(), 1000, 1000);
  fs::copy_file(busybox, dir / "bin/busybox", fs::copy_options::overwrite_existing);
  ::chmod((dir / "bin/busybox").c_str(), 0755);
  auto applets = check_output({busybox, "--list"});
  size_t start = 0;
  while (start < applets.size()) {
    size_t end = applets.find('\n', start);
    if (end == std::string::npos) end = applets.size();
    std::string applet = applets.substr(start, end - start);
    if (!applet.empty() && applet != "busybox" && !fs::exists(dir / "bin" / applet))
      fs::create_symlink("busybox", dir / "bin" / applet);
    start = end + 1;
  }
  write_file_atomic(dir / "etc/passwd",
                    "root:x:0:0:root:/root:/bin/sh\ncontaineruser:x:1000:1000::/home/containeruser:/bin/sh\n");
  write_file_atomic(dir / "etc/group", "root:x:0:\ncontaineruser:x:1000:\n");
  for (const auto& [path, content] : image.files) {
    auto target = dir / std::filesystem::path(path).relative_path();
    ensure_dir(target.parent_path());
    write_file_atomic(target, content, 0755);
  }
}

std::string add_busybox_image(const std::filesystem::path& root_path, const TestImage& image) {
  if (!have_busybox()) {
    ADD_FAILURE() << "busybox-static is not installed (apt-get install busybox-static)";
    return "";
  }
  Root root(root_path);
  TempDir tree(root.path(), "image-");
  make_busybox_tree(tree.path() / "fs", image);
  ImageStore store(root);
  auto lease = store.lease();
  auto writer = store.content().writer();
  snapshot::DiffOptions options;
  options.source_date_epoch = 0;
  auto layer = snapshot::write_directory_layer(tree.path() / "fs", *writer, options);
  writer->close();
  Digest digest = writer->commit();
  Json config = {{"architecture", "amd64"}, {"os", "linux"}, {"created", "1970-01-01T00:00:00Z"}};
  if (!image.os_version.empty()) config["os.version"] = image.os_version;
  Json inner = image.config;
  if (!inner.contains("Env")) inner["Env"] = {"PATH=/bin"};
  if (!inner.contains("Cmd")) inner["Cmd"] = {"sh"};
  config["config"] = inner;
  auto record = assemble_image(store, config, {{digest, layer.diff_id, layer.size, layer.media_type, "test"}},
                               {Reference::parse(image.name)});
  return record.id.str();
}

}  // namespace skiff::test
