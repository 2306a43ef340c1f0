#include "container/log.h"

#include <gtest/gtest.h>

#include "core/fs.h"

namespace skiff::container {

namespace {
std::vector<LogEntry> read_all(const fs::path& path, std::optional<size_t> tail = {}) {
  std::vector<LogEntry> out;
  LogReadOptions options;
  options.tail = tail;
  read_logs(path, options, [&](const LogEntry& e) { out.push_back(e); });
  return out;
}
}  // namespace

TEST(Log, WritesWholeLinesPerStream) {
  TempDir dir;
  auto path = dir.path() / "c.log";
  {
    LogWriter log(path);
    log.write("stdout", "hel");
    log.write("stderr", "oops\n");
    log.write("stdout", "lo\nwor");
    log.write("stdout", "ld\n\"quoted\" \x01\n");
    log.write("stdout", "no newline");
    log.flush();
  }
  auto entries = read_all(path);
  ASSERT_EQ(entries.size(), 5u);
  EXPECT_EQ(entries[0].stream, "stderr");
  EXPECT_EQ(entries[0].text, "oops\n");
  EXPECT_EQ(entries[1].text, "hello\n");
  EXPECT_EQ(entries[2].text, "world\n");
  EXPECT_EQ(entries[3].text, "\"quoted\" \x01\n");
  EXPECT_EQ(entries[4].text, "no newline");
  EXPECT_FALSE(entries[0].time.empty());
  auto tail = read_all(path, 2);
  ASSERT_EQ(tail.size(), 2u);
  EXPECT_EQ(tail[1].text, "no newline");
  EXPECT_TRUE(read_all(path, 0).empty());
}

TEST(Log, RotatesAtTheCapAndReadsBothGenerations) {
  TempDir dir;
  auto path = dir.path() / "c.log";
  {
    LogWriter log(path, 1000);
    for (int i = 0; i < 30; ++i) log.write("stdout", "line " + std::to_string(i) + "\n");
  }
  EXPECT_TRUE(fs::exists(dir.path() / "c.log.1"));
  EXPECT_LE(fs::file_size(path), 1100u);
  auto entries = read_all(path);
  ASSERT_FALSE(entries.empty());
  EXPECT_EQ(entries.back().text, "line 29\n");
  // lines are in order across the two files
  for (size_t i = 1; i < entries.size(); ++i)
    EXPECT_LT(std::stoi(entries[i - 1].text.substr(5)), std::stoi(entries[i].text.substr(5)));
}

TEST(Log, SkipsATornLastLine) {
  TempDir dir;
  auto path = dir.path() / "c.log";
  write_file_atomic(path, "{\"log\":\"ok\\n\",\"stream\":\"stdout\",\"time\":\"t\"}\n{\"log\":\"tor");
  auto entries = read_all(path);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].text, "ok\n");
}

}  // namespace skiff::container
