// The build's plain progress lines (what CI logs and the integration
// tests read) and quiet mode.
#include <gtest/gtest.h>

#include <cstdio>
#include <regex>

#include "builder/progress.h"

namespace skiff::builder {

namespace {

std::string contents(std::FILE* file) {
  std::fflush(file);
  std::rewind(file);
  std::string text;
  char buffer[4096];
  for (size_t n; (n = std::fread(buffer, 1, sizeof buffer, file)) > 0;) text.append(buffer, n);
  return text;
}

}  // namespace

TEST(ConsoleReporter, PlainLinesNumberEachVertex) {
  std::FILE* file = std::tmpfile();
  ASSERT_NE(file, nullptr);
  {
    ConsoleReporter reporter(ConsoleReporter::Mode::plain, file);
    int from = reporter.begin("[build 1/3] FROM core");
    reporter.done(from);
    int run = reporter.begin("[build 2/3] RUN make");
    reporter.output(run, "compiling a\ncompil");
    reporter.output(run, "ing b\nno newline at the end");
    reporter.done(run);
    int copy = reporter.begin("[build 3/3] COPY . /src");
    reporter.cached(copy);
    reporter.message("[Warning] One or more build-args [X] were not consumed");
    int failed = reporter.begin("exporting to image");
    reporter.detail(failed, "writing image sha256:0000");
    reporter.failed(failed, "disk full");
    reporter.finish();
  }
  std::string text = contents(file);
  std::fclose(file);
  std::regex expected(
      "#1 \\[build 1/3\\] FROM core\n"
      "#1 DONE 0\\.\\ds\n"
      "#2 \\[build 2/3\\] RUN make\n"
      "#2 \\d+\\.\\d{3} compiling a\n"
      "#2 \\d+\\.\\d{3} compiling b\n"
      "#2 \\d+\\.\\d{3} no newline at the end\n"
      "#2 DONE \\d+\\.\\ds\n"
      "#3 \\[build 3/3\\] COPY \\. /src\n"
      "#3 CACHED\n"
      "\\[Warning\\] One or more build-args \\[X\\] were not consumed\n"
      "#4 exporting to image\n"
      "#4 writing image sha256:0000\n"
      "#4 ERROR: disk full\n");
  EXPECT_TRUE(std::regex_match(text, expected)) << text;
}

TEST(ConsoleReporter, QuietPrintsNothing) {
  std::FILE* file = std::tmpfile();
  ASSERT_NE(file, nullptr);
  {
    ConsoleReporter reporter(ConsoleReporter::Mode::quiet, file);
    int v = reporter.begin("[stage-0 2/2] RUN true");
    reporter.output(v, "output\n");
    reporter.message("warning");
    reporter.done(v);
  }
  EXPECT_EQ(contents(file), "");
  std::fclose(file);
}

}  // namespace skiff::builder
