// A small deterministic fuzzer: random Dockerfiles, words and patterns
// built from the language's own tokens. Every input must either parse or be
// refused with skiff::Error — never crash, hang or throw anything else.
#include <gtest/gtest.h>

#include <random>

#include "builder/builder.h"
#include "core/error.h"

namespace skiff::builder {

namespace {

const std::vector<std::string> tokens = {
    "FROM ", "RUN ", "COPY ", "ADD ", "ENV ", "ARG ", "LABEL ", "WORKDIR ", "USER ", "CMD ", "ENTRYPOINT ",
    "EXPOSE ", "VOLUME ", "STOPSIGNAL ", "HEALTHCHECK ", "SHELL ", "ONBUILD ", "MAINTAINER ", "AS ", "NONE ",
    "--from=", "--chown=", "--chmod=", "--link ", "--mount=", "--network=", "--platform=", "--interval=",
    "type=cache,", "target=/x", "0755", "30s", "scratch", "alpine", "a", "b", "0", "1", "/", ".", "..", "*",
    "**", "?", "[", "]", "^", "!", "{", "}", "$", "${", ":-", ":+", ":?", "#", "##", "%", "%%", "//", "=", "\"",
    "'", "\\", "`", " ", "  ", "\t", "\n", "\n", "\n", "\r\n", "<<", "<<-", "EOF", "'EOF'", "3<<", "[\"a\"]",
    "[]", "[1]", ",", "-", "# escape=`\n", "# syntax=x\n", "# comment\n", "\\\n", "é", "\x01", "\xff",
};

std::string random_text(std::mt19937& rng, size_t max_tokens) {
  std::uniform_int_distribution<size_t> count(0, max_tokens);
  std::uniform_int_distribution<size_t> pick(0, tokens.size() - 1);
  std::string text;
  for (size_t n = count(rng); n > 0; --n) text += tokens[pick(rng)];
  return text;
}

TEST(Fuzz, ParserPlannerAndEvaluatorNeverCrash) {
  std::mt19937 rng(20240521);
  BuildOptions options;
  options.build_platform = options.target_platform = Platform::parse("linux/amd64");
  size_t parsed = 0, evaluated = 0;
  for (int i = 0; i < 6000; ++i) {
    // Start most inputs with a FROM so that the later phases get exercised.
    std::string text = (i % 4 ? "FROM a\n" : "") + random_text(rng, 40);
    try {
      Dockerfile dockerfile = parse_dockerfile(text);
      ++parsed;
      BuildPlan plan = plan_build(dockerfile, options);
      for (size_t s : plan.order) {
        StageResult result = evaluate_stage(plan, s, scratch_image(options.target_platform));
        (void)result;
      }
      ++evaluated;
    } catch (const Error&) {
      // refused: fine
    }
  }
  // The generator must reach past the parser for the test to mean anything.
  EXPECT_GT(parsed, 100u);
  EXPECT_GT(evaluated, 20u);
}

TEST(Fuzz, ExpansionNeverCrashes) {
  std::mt19937 rng(7);
  Variables vars;
  vars.set("a", "x y");
  vars.set("b", "");
  size_t expanded = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string text = random_text(rng, 12);
    LexOptions options;
    options.escape = i % 3 ? '\\' : '`';
    options.raw_quotes = i % 5 == 0;
    options.raw_escapes = i % 7 == 0;
    options.skip_unset = i % 2 == 0;
    options.skip_quotes = i % 11 == 0;
    try {
      expand(text, vars, options);
      ++expanded;
    } catch (const Error&) {
    }
  }
  EXPECT_GT(expanded, 1000u);
}

TEST(Fuzz, IgnorePatternsNeverCrash) {
  std::mt19937 rng(11);
  size_t compiled = 0;
  for (int i = 0; i < 5000; ++i) {
    std::string patterns = random_text(rng, 10);
    std::string path = clean_path(random_text(rng, 6));
    try {
      IgnoreMatcher matcher = IgnoreMatcher::parse(patterns);
      matcher.excluded(path);
      matcher.may_include_below(path);
      ++compiled;
    } catch (const Error&) {
    }
    try {
      glob_match(random_text(rng, 6), path);
    } catch (const Error&) {
    }
  }
  EXPECT_GT(compiled, 1000u);
}

}  // namespace

}  // namespace skiff::builder
