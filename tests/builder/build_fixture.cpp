#include "builder/build_fixture.h"

#include <sys/stat.h>

#include <regex>
#include <sstream>

namespace skiff::test {

std::vector<StepLine> parse_steps(const std::string& log) {
  std::vector<StepLine> steps;
  std::map<int, size_t> by_number;
  static const std::regex vertex(R"(^#(\d+) (\[.*)$)");
  static const std::regex state(R"(^#(\d+) (CACHED|DONE|ERROR)\b.*$)");
  std::istringstream lines(log);
  std::string line;
  while (std::getline(lines, line)) {
    std::smatch m;
    if (std::regex_match(line, m, state)) {
      auto it = by_number.find(std::stoi(m[1]));
      if (it != by_number.end()) steps[it->second].state = m[2];
    } else if (std::regex_match(line, m, vertex)) {
      StepLine step;
      step.name = m[2];
      auto close = step.name.find("] ");
      step.text = close == std::string::npos ? step.name : step.name.substr(close + 2);
      by_number[std::stoi(m[1])] = steps.size();
      steps.push_back(step);
    }
  }
  return steps;
}

void BuildTest::SetUp() {
  if (!running_as_root()) GTEST_SKIP() << "builds mount overlays and run containers: run the tests as root";
  if (!have_busybox()) GTEST_SKIP() << "busybox-static is not installed (apt-get install busybox-static)";
  add_busybox_image(cli.root(), {});
}

void BuildTest::write(const std::string& path, const std::string& content, mode_t mode) {
  auto target = context() / path;
  ensure_dir(target.parent_path());
  write_file_atomic(target, content, mode, false);
  ::chmod(target.c_str(), mode);
}

CommandResult BuildTest::build(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"build", "--progress", "plain"};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back(context().string());
  return cli.run(argv);
}

std::string BuildTest::build_ok(const std::vector<std::string>& args, std::vector<StepLine>* steps) {
  auto iid = context_.path().parent_path() / (context_.path().filename().string() + ".iid");
  std::vector<std::string> argv = args;
  argv.push_back("--iidfile");
  argv.push_back(iid.string());
  auto result = build(argv);
  EXPECT_EQ(result.exit_code, 0) << "stdout: " << result.out << "\nstderr: " << result.err;
  if (steps) *steps = parse_steps(result.err);
  auto id = read_file_if_exists(iid).value_or("");
  std::filesystem::remove(iid);
  return id;
}

std::string state_of(const std::vector<StepLine>& steps, const std::string& text) {
  for (const auto& step : steps)
    if (step.text == text) return step.state;
  return "";
}

std::string BuildTest::run_in(const std::string& image, const std::string& script) {
  return cli.ok({"run", "--rm", image, "sh", "-c", script});
}

Json BuildTest::inspect(const std::string& image) {
  auto out = cli.ok({"inspect", image});
  Json parsed = Json::parse(out, nullptr, false);
  if (parsed.is_array() && !parsed.empty()) return parsed[0];
  ADD_FAILURE() << "skiff inspect " << image << " printed: " << out;
  return Json::object();
}

}  // namespace skiff::test
