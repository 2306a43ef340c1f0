#include "container/user.h"

#include <gtest/gtest.h>

#include "core/error.h"
#include "core/fs.h"

namespace skiff::container {

namespace {
struct Rootfs {
  TempDir dir;
  UniqueFd fd;
  Rootfs() {
    ensure_dir(dir.path() / "etc");
    write_file_atomic(dir.path() / "etc/passwd",
                      "root:x:0:0:root:/root:/bin/sh\n"
                      "containeruser:x:1000:1000::/home/containeruser:/bin/sh\n"
                      "# comment\n"
                      "svc:x:200:300::/srv:/bin/false\n");
    write_file_atomic(dir.path() / "etc/group",
                      "root:x:0:\ncontaineruser:x:1000:\nstaff:x:50:containeruser,svc\nwheel:x:10:svc\n");
    fd = open_directory(dir.path());
  }
};
}  // namespace

TEST(User, ResolvesNamesFromTheImage) {
  Rootfs rootfs;
  User u = resolve_user(rootfs.fd.get(), "containeruser");
  EXPECT_EQ(u.uid, 1000u);
  EXPECT_EQ(u.gid, 1000u);
  EXPECT_EQ(u.home, "/home/containeruser");
  EXPECT_EQ(u.additional_gids, std::vector<std::uint32_t>{50});
  User svc = resolve_user(rootfs.fd.get(), "svc");
  EXPECT_EQ(svc.gid, 300u);
  EXPECT_EQ(svc.additional_gids, (std::vector<std::uint32_t>{50, 10}));
}

TEST(User, NumbersAndGroups) {
  Rootfs rootfs;
  EXPECT_EQ(resolve_user(rootfs.fd.get(), "").uid, 0u);
  EXPECT_EQ(resolve_user(rootfs.fd.get(), "1000").home, "/home/containeruser");
  User unknown = resolve_user(rootfs.fd.get(), "4242");  // docker accepts unknown numbers
  EXPECT_EQ(unknown.uid, 4242u);
  EXPECT_EQ(unknown.gid, 0u);
  User with_group = resolve_user(rootfs.fd.get(), "containeruser:staff");
  EXPECT_EQ(with_group.gid, 50u);
  EXPECT_TRUE(with_group.additional_gids.empty());
  EXPECT_EQ(resolve_user(rootfs.fd.get(), "5:7").gid, 7u);
}

TEST(User, UnknownNamesAreErrors) {
  Rootfs rootfs;
  EXPECT_THROW(resolve_user(rootfs.fd.get(), "nobody"), Error);
  EXPECT_THROW(resolve_user(rootfs.fd.get(), "root:nogroup"), Error);
  EXPECT_THROW(resolve_user(rootfs.fd.get(), "root:"), Error);
}

TEST(User, PasswdSymlinkCannotReachTheHost) {
  Rootfs rootfs;
  TempDir host;
  ensure_dir(host.path() / "etc");
  write_file_atomic(host.path() / "etc/passwd", "evil:x:0:0::/:/bin/sh\n");
  fs::remove(rootfs.dir.path() / "etc/passwd");
  // An absolute symlink resolves inside the root, so it cannot reach the host file.
  fs::create_symlink(host.path() / "etc/passwd", rootfs.dir.path() / "etc/passwd");
  EXPECT_THROW(resolve_user(rootfs.fd.get(), "evil"), Error);
  fs::remove(rootfs.dir.path() / "etc/passwd");
  fs::create_symlink("../../../../../../../../" + (host.path() / "etc/passwd").string(), rootfs.dir.path() / "etc/passwd");
  EXPECT_THROW(resolve_user(rootfs.fd.get(), "evil"), Error);
}

}  // namespace skiff::container
