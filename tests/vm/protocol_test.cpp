// Pure logic of the VM box: the wire protocol, the kernel policy, the qemu
// command line.
#include <gtest/gtest.h>

#include <algorithm>

#include "core/error.h"
#include "vm/protocol.h"
#include "vm/qemu.h"
#include "vm/vm.h"

namespace skiff::vm {
namespace {

using protocol::MessageType;

TEST(VmProtocol, SpecRoundTrips) {
  protocol::ProcessSpec spec;
  spec.args = {"sh", "-c", "echo 'a b'"};
  spec.env = {"A=1", "EMPTY="};
  spec.cwd = "/work dir";
  spec.uid = 1000;
  spec.gid = 1001;
  spec.additional_gids = {20, 4000000000u};
  spec.terminal = true;
  spec.open_stdin = true;
  spec.rows = 33;
  spec.cols = 101;
  spec.hostname = "box";
  auto decoded = protocol::decode_spec(protocol::encode_spec(spec));
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->args, spec.args);
  EXPECT_EQ(decoded->env, spec.env);
  EXPECT_EQ(decoded->cwd, spec.cwd);
  EXPECT_EQ(decoded->uid, 1000u);
  EXPECT_EQ(decoded->gid, 1001u);
  EXPECT_EQ(decoded->additional_gids, spec.additional_gids);
  EXPECT_TRUE(decoded->terminal);
  EXPECT_TRUE(decoded->open_stdin);
  EXPECT_EQ(decoded->rows, 33);
  EXPECT_EQ(decoded->cols, 101);
  EXPECT_EQ(decoded->hostname, "box");
}

TEST(VmProtocol, MalformedSpecsAreRejected) {
  protocol::ProcessSpec spec;
  spec.args = {"true"};
  std::string good = protocol::encode_spec(spec);
  EXPECT_FALSE(protocol::decode_spec(good.substr(0, good.size() - 1)));  // truncated
  EXPECT_FALSE(protocol::decode_spec(""));                                // no args
  spec.cwd = "relative";
  EXPECT_FALSE(protocol::decode_spec(protocol::encode_spec(spec)));
}

TEST(VmProtocol, FramesSplitAcrossReads) {
  std::string stream = protocol::encode_frame(MessageType::stdout_data, 3, "hello") +
                       protocol::encode_frame(MessageType::exit, 0, protocol::encode_i32(-2));
  protocol::FrameReader reader;
  std::vector<protocol::Frame> frames;
  for (char c : stream) {  // one byte at a time: the worst case
    reader.feed(&c, 1);
    bool corrupt = false;
    while (auto f = reader.next(corrupt)) frames.push_back(*f);
    ASSERT_FALSE(corrupt);
  }
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].type, MessageType::stdout_data);
  EXPECT_EQ(frames[0].process, 3u);
  EXPECT_EQ(frames[0].payload, "hello");
  EXPECT_EQ(frames[1].type, MessageType::exit);
  EXPECT_EQ(static_cast<std::int32_t>(protocol::get_u32(frames[1].payload.data())), -2);
}

TEST(VmProtocol, OversizedFrameIsCorrupt) {
  std::string header;
  protocol::put_u32(header, protocol::kMaxPayload + 1);
  header += std::string(8, '\0');
  protocol::FrameReader reader;
  reader.feed(header.data(), header.size());
  bool corrupt = false;
  EXPECT_FALSE(reader.next(corrupt));
  EXPECT_TRUE(corrupt);
}

TEST(VmKernelPolicy, MinimumVersionAgainstGuest) {
  GuestKernel kernel;
  kernel.release = "6.1.0-56-cloud-amd64";
  kernel.version = {6, 1, 192};
  EXPECT_TRUE(kernel_satisfies(kernel, ""));
  EXPECT_TRUE(kernel_satisfies(kernel, "5.10"));
  EXPECT_TRUE(kernel_satisfies(kernel, "6.1.192"));
  EXPECT_FALSE(kernel_satisfies(kernel, "6.1.193"));
  EXPECT_FALSE(kernel_satisfies(kernel, "6.6"));
  try {
    check_kernel_requirement(kernel, "6.6");
    FAIL() << "a newer minimum kernel was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::unsupported);
    EXPECT_NE(std::string(e.what()).find("needs Linux 6.6"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("6.1.192"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("--vm-kernel"), std::string::npos) << e.what();
  }
  EXPECT_THROW(kernel_satisfies(kernel, "ltsc2022"), Error);
}

TEST(VmAccelerator, ParsesAndRejects) {
  EXPECT_EQ(parse_accelerator("kvm"), Accelerator::kvm);
  EXPECT_EQ(parse_accelerator("tcg"), Accelerator::tcg);
  EXPECT_EQ(parse_accelerator("auto"), Accelerator::automatic);
  EXPECT_THROW(parse_accelerator("hvf"), Error);
  EXPECT_EQ(choose_accelerator(Accelerator::tcg).accel, Accelerator::tcg);
  EXPECT_NE(choose_accelerator().accel, Accelerator::automatic);
}

TEST(VmQemu, MicrovmWithVirtioMmioOnly) {
  QemuLaunch launch;
  launch.kernel = "/k";
  launch.initramfs = "/i";
  launch.root_image = "/store/a,b.erofs";
  launch.accel = Accelerator::tcg;
  launch.memory_mib = 256;
  launch.cpus = 2;
  auto args = qemu_arguments(launch);
  auto has = [&](const std::string& a) { return std::find(args.begin(), args.end(), a) != args.end(); };
  EXPECT_TRUE(has("-nodefaults"));
  EXPECT_TRUE(has("-no-reboot"));
  EXPECT_TRUE(has("256M"));
  EXPECT_TRUE(has("2"));
  EXPECT_TRUE(has("virtio-blk-device,drive=root"));
  for (const auto& a : args) {
    EXPECT_EQ(a.find("-pci"), std::string::npos) << a;
    if (a.starts_with("id=root,")) {
      EXPECT_NE(a.find("a,,b.erofs"), std::string::npos) << "commas escaped: " << a;
    }
  }
  EXPECT_EQ(args[2].rfind("microvm,", 0), 0u);
  std::string line = kernel_command_line(launch);
  EXPECT_NE(line.find("panic=-1"), std::string::npos);
  EXPECT_NE(line.find("pci=off"), std::string::npos);
  EXPECT_NE(line.find("console=none"), std::string::npos);
}

}  // namespace
}  // namespace skiff::vm
