#include <gtest/gtest.h>

#include "builder/dockerfile.h"
#include "core/error.h"
#include "describe.h"

namespace skiff::builder {

namespace {

using testing::describe;

struct ParseCase {
  const char* name;
  const char* text;
  std::vector<std::string> expected;  // describe() of every instruction
};

// Tricky but valid Dockerfiles and exactly what they parse to.
const ParseCase parse_cases[] = {
    // --- continuation lines ---
    {"continuation keeps the indentation of the next line",
     "FROM a\nRUN echo \\\n  hello",
     {"FROM \"a\"", "RUN sh[\"echo   hello\"]"}},
    {"comment lines inside a continuation vanish",
     "FROM a\nRUN echo a \\\n# a comment\n  b",
     {"FROM \"a\"", "RUN sh[\"echo a   b\"]"}},
    {"indented comment inside a continuation",
     "FROM a\nRUN a \\\n    # still a comment\nb",
     {"FROM \"a\"", "RUN sh[\"a b\"]"}},
    {"empty continuation lines are skipped",
     "FROM a\nRUN a \\\n\n   \nb",
     {"FROM \"a\"", "RUN sh[\"a b\"]"}},
    {"continuation at end of file",
     "FROM a\nRUN a \\",
     {"FROM \"a\"", "RUN sh[\"a\"]"}},
    {"blanks after the escape still continue",
     "FROM a\nRUN a \\  \t\n b",
     {"FROM \"a\"", "RUN sh[\"a  b\"]"}},
    {"an escaped escape does not continue",
     "FROM a\nRUN echo a\\\\\nRUN b",
     {"FROM \"a\"", "RUN sh[\"echo a\\\\\\\\\"]", "RUN sh[\"b\"]"}},
    {"a line of only the escape joins",
     "FROM a\nRUN a\\\n\\\nb",
     {"FROM \"a\"", "RUN sh[\"ab\"]"}},
    {"CRLF line endings",
     "FROM a\r\nRUN a \\\r\n b\r\n",
     {"FROM \"a\"", "RUN sh[\"a  b\"]"}},
    {"continuation inside a FROM",
     "FROM \\\n  alpine \\\n  AS \\\n  base",
     {"FROM \"alpine\" AS base"}},

    // --- parser directives ---
    {"escape directive: backtick continues, backslash is literal",
     "# escape=`\nFROM a\nRUN dir `\n  c:\\\\\nRUN copy a\\ \\",
     {"FROM \"a\"", "RUN sh[\"dir   c:\\\\\\\\\"]", "RUN sh[\"copy a\\\\ \\\\\"]"}},
    {"directive keys are case-insensitive, blanks allowed",
     "#ESCAPE = `\nFROM a\nRUN x `\ny",
     {"FROM \"a\"", "RUN sh[\"x y\"]"}},
    {"a directive after an instruction is a comment",
     "FROM a\n# escape=`\nRUN a `\nRUN b",
     {"FROM \"a\"", "RUN sh[\"a `\"]", "RUN sh[\"b\"]"}},
    {"a directive after another comment is a comment",
     "# hello\n# escape=`\nFROM a\nRUN a `\nRUN b",
     {"FROM \"a\"", "RUN sh[\"a `\"]", "RUN sh[\"b\"]"}},
    {"a directive after a blank line is a comment",
     "\n# escape=`\nFROM a\nRUN a `\nRUN b",
     {"FROM \"a\"", "RUN sh[\"a `\"]", "RUN sh[\"b\"]"}},
    {"an unknown directive ends the directives",
     "# foo=bar\n# escape=`\nFROM a\nRUN a `\nRUN b",
     {"FROM \"a\"", "RUN sh[\"a `\"]", "RUN sh[\"b\"]"}},
    {"syntax and check directives together",
     "# syntax=docker/dockerfile:1.7\n# check=skip=all\n# escape=`\nFROM a\nRUN a `\nb",
     {"FROM \"a\"", "RUN sh[\"a b\"]"}},
    {"byte order mark",
     "\xEF\xBB\xBF# escape=`\nFROM a",
     {"FROM \"a\""}},

    // --- keywords, comments ---
    {"instructions are case-insensitive",
     "from a as Builder\nrun echo hi\nCoPy x y",
     {"FROM \"a\" AS builder", "RUN sh[\"echo hi\"]", "COPY [\"x\"] -> \"y\""}},
    {"comments and indentation",
     "# comment\n  FROM a\n\t# indented comment\n   RUN b # not a comment",
     {"FROM \"a\"", "RUN sh[\"b # not a comment\"]"}},
    {"ARG before FROM",
     "ARG VERSION=1.2\nARG BASE\nFROM base:$VERSION",
     {"ARG VERSION=\"1.2\"", "ARG BASE", "FROM \"base:$VERSION\""}},
    {"FROM with platform and stage",
     "FROM --platform=$BUILDPLATFORM golang:1.22 AS build",
     {"FROM --platform=$BUILDPLATFORM \"golang:1.22\" AS build"}},

    // --- exec (JSON) and shell forms ---
    {"exec form", "FROM a\nCMD [\"a\", \"b c\"]", {"FROM \"a\"", "CMD exec[\"a\",\"b c\"]"}},
    {"single quotes are not JSON: shell form", "FROM a\nCMD [\"a\", 'b']",
     {"FROM \"a\"", "CMD sh[\"[\\\"a\\\", 'b']\"]"}},
    {"trailing text after the array: shell form", "FROM a\nRUN [\"a\"] && b",
     {"FROM \"a\"", "RUN sh[\"[\\\"a\\\"] && b\"]"}},
    {"blanks inside the array", "FROM a\nENTRYPOINT [ \"/bin/app\" , \"--x\" ]  ",
     {"FROM \"a\"", "ENTRYPOINT exec[\"/bin/app\",\"--x\"]"}},
    {"empty exec form", "FROM a\nENTRYPOINT []\nCMD []", {"FROM \"a\"", "ENTRYPOINT exec[]", "CMD exec[]"}},
    {"JSON escapes", "FROM a\nCMD [\"a\\tb\", \"\\u00e9\"]", {"FROM \"a\"", "CMD exec[\"a\\tb\",\"é\"]"}},
    {"JSON COPY with spaces", "FROM a\nCOPY [\"a b\", \"c\", \"/d e/\"]",
     {"FROM \"a\"", "COPY json [\"a b\",\"c\"] -> \"/d e/\""}},
    {"VOLUME both forms", "FROM a\nVOLUME [\"/a\", \"/b c\"]\nVOLUME /d /e",
     {"FROM \"a\"", "VOLUME json [\"/a\",\"/b c\"]", "VOLUME [\"/d\",\"/e\"]"}},
    {"a heredoc marker in exec form is text", "FROM a\nRUN [\"<<EOF\"]", {"FROM \"a\"", "RUN exec[\"<<EOF\"]"}},
    {"SHELL", "FROM a\nSHELL [\"/bin/bash\", \"-eo\", \"pipefail\", \"-c\"]",
     {"FROM \"a\"", "SHELL [\"/bin/bash\",\"-eo\",\"pipefail\",\"-c\"]"}},

    // --- here-documents ---
    {"RUN heredoc", "FROM a\nRUN <<EOF\necho hello\necho $HOME\nEOF\nUSER x",
     {"FROM \"a\"", "RUN sh[\"<<EOF\"] <<EOF=\"echo hello\\necho $HOME\\n\"", "USER \"x\""}},
    {"<<- strips leading tabs, also before the delimiter", "FROM a\nRUN <<-EOT\n\techo a\n\t\techo b\n\tEOT",
     {"FROM \"a\"", "RUN sh[\"<<-EOT\"] <<EOT(chomp)=\"echo a\\necho b\\n\""}},
    {"<< keeps tabs", "FROM a\nRUN <<EOT\n\techo a\nEOT", {"FROM \"a\"", "RUN sh[\"<<EOT\"] <<EOT=\"\\techo a\\n\""}},
    {"single-quoted delimiter: no expansion", "FROM a\nRUN <<'EOF'\necho $X\nEOF",
     {"FROM \"a\"", "RUN sh[\"<<'EOF'\"] <<EOF(literal)=\"echo $X\\n\""}},
    {"double-quoted delimiter: no expansion", "FROM a\nRUN <<\"EOF\"\necho $X\nEOF",
     {"FROM \"a\"", "RUN sh[\"<<\\\"EOF\\\"\"] <<EOF(literal)=\"echo $X\\n\""}},
    {"partly quoted delimiter", "FROM a\nRUN <<eo'f'\nx\neof", {"FROM \"a\"", "RUN sh[\"<<eo'f'\"] <<eof(literal)=\"x\\n\""}},
    {"escaped quote in delimiter still expands", "FROM a\nRUN <<eo\\'f\nx\neo'f",
     {"FROM \"a\"", "RUN sh[\"<<eo\\\\'f\"] <<eo'f=\"x\\n\""}},
    {"blank between << and the delimiter", "FROM a\nRUN <<  EOF\nx\nEOF", {"FROM \"a\"", "RUN sh[\"<<  EOF\"] <<EOF=\"x\\n\""}},
    {"file descriptor", "FROM a\nRUN 3<<EOF cat /dev/fd/3\nx\nEOF",
     {"FROM \"a\"", "RUN sh[\"3<<EOF cat /dev/fd/3\"] <<EOF(fd3)=\"x\\n\""}},
    {"two heredocs on one line", "FROM a\nRUN cat <<A <<B > out\na\nA\nb\nB",
     {"FROM \"a\"", "RUN sh[\"cat <<A <<B > out\"] <<A=\"a\\n\" <<B=\"b\\n\""}},
    {"heredoc with a program", "FROM a\nRUN <<EOF python3\nprint('hi')\nEOF",
     {"FROM \"a\"", "RUN sh[\"<<EOF python3\"] <<EOF=\"print('hi')\\n\""}},
    {"body lines are raw: comments, escapes, blank lines", "FROM a\nRUN <<EOF\n# kept\necho \\\n\nEOF",
     {"FROM \"a\"", "RUN sh[\"<<EOF\"] <<EOF=\"# kept\\necho \\\\\\n\\n\""}},
    {"empty body", "FROM a\nRUN <<EOF\nEOF", {"FROM \"a\"", "RUN sh[\"<<EOF\"] <<EOF=\"\""}},
    {"quoted << is not a heredoc", "FROM a\nRUN echo \"<<EOF\"\nRUN b", {"FROM \"a\"", "RUN sh[\"echo \\\"<<EOF\\\"\"]", "RUN sh[\"b\"]"}},
    {"RUN flags then heredoc", "FROM a\nRUN --mount=type=cache,target=/c <<EOF\nmake\nEOF",
     {"FROM \"a\"", "RUN --mount=type=cache,target=/c sh[\"<<EOF\"] <<EOF=\"make\\n\""}},
    {"COPY heredoc", "FROM a\nCOPY <<EOF /etc/motd\nhello $USER\nEOF",
     {"FROM \"a\"", "COPY [] <<EOF=\"hello $USER\\n\" -> \"/etc/motd\""}},
    {"COPY two heredocs and a file", "FROM a\nCOPY --chmod=0644 <<a.txt <<b.txt c.txt /dir/\nA\na.txt\nB\nb.txt",
     {"FROM \"a\"", "COPY --chmod=0644 [\"c.txt\"] <<a.txt=\"A\\n\" <<b.txt=\"B\\n\" -> \"/dir/\""}},
    {"heredoc bodies may hold the other delimiter", "FROM a\nCOPY <<X <<Y /d\nY\nX\nX\nY",
     {"FROM \"a\"", "COPY [] <<X=\"Y\\n\" <<Y=\"X\\n\" -> \"/d\""}},
    {"ADD heredoc", "FROM a\nADD <<EOF /x\nz\nEOF", {"FROM \"a\"", "ADD [] <<EOF=\"z\\n\" -> \"/x\""}},
    {"line numbers continue after a heredoc", "FROM a\nRUN <<EOF\nx\nEOF\nRUN y", {"FROM \"a\"", "RUN sh[\"<<EOF\"] <<EOF=\"x\\n\"", "RUN sh[\"y\"]"}},

    // --- flags ---
    {"COPY flags", "FROM a\nCOPY --from=build --chown=1000:1000 --chmod=755 --link /out/app /usr/bin/",
     {"FROM \"a\"", "COPY --from=build --chown=1000:1000 --chmod=755 --link [\"/out/app\"] -> \"/usr/bin/\""}},
    {"quoted flag values", "FROM a\nCOPY --chown=\"app user\" a b", {"FROM \"a\"", "COPY --chown=app user [\"a\"] -> \"b\""}},
    {"--link=false", "FROM a\nCOPY --link=false a b", {"FROM \"a\"", "COPY [\"a\"] -> \"b\""}},
    {"COPY --parents --exclude", "FROM a\nCOPY --parents --exclude=*.tmp --exclude=.git ./src/ /app/",
     {"FROM \"a\"", "COPY --parents --exclude=*.tmp --exclude=.git [\"./src/\"] -> \"/app/\""}},
    {"ADD flags", "FROM a\nADD --unpack=false --chown=1 x.tar.gz /opt/", {"FROM \"a\"", "ADD --chown=1 --unpack=false [\"x.tar.gz\"] -> \"/opt/\""}},
    {"RUN mount, network, security", "FROM a\nRUN --mount=type=secret,id=tok --network=none --security=sandbox make",
     {"FROM \"a\"", "RUN --mount=type=secret,id=tok --network=none --security=sandbox sh[\"make\"]"}},
    {"--network=default is the default", "FROM a\nRUN --network=default make", {"FROM \"a\"", "RUN sh[\"make\"]"}},
    {"-- ends the flags", "FROM a\nRUN -- --not-a-flag", {"FROM \"a\"", "RUN sh[\"--not-a-flag\"]"}},
    {"mount values with variables are checked later", "FROM a\nRUN --mount=type=$T,target=/x true",
     {"FROM \"a\"", "RUN --mount=type=$T,target=/x sh[\"true\"]"}},

    // --- ENV, LABEL, ARG keep quotes for expansion ---
    {"ENV pairs", "FROM a\nENV A=1 B=\"two words\" C=three\\ words D=",
     {"FROM \"a\"", "ENV \"A\"=\"1\" \"B\"=\"\\\"two words\\\"\" \"C\"=\"three\\\\ words\" \"D\"=\"\""}},
    {"ENV legacy form takes the rest of the line", "FROM a\nENV GREETING  hello   world ",
     {"FROM \"a\"", "ENV \"GREETING\"=\"hello   world\"(legacy)"}},
    {"ENV over continuation lines", "FROM a\nENV A=1 \\\n    B=2",
     {"FROM \"a\"", "ENV \"A\"=\"1\" \"B\"=\"2\""}},
    {"LABEL with quoted keys", "FROM a\nLABEL \"com.example.vendor\"=\"ACME Inc\" version=1.0",
     {"FROM \"a\"", "LABEL \"\\\"com.example.vendor\\\"\"=\"\\\"ACME Inc\\\"\" \"version\"=\"1.0\""}},
    {"ARG forms", "FROM a\nARG A B=2 C=\"x y\" D=", {"FROM \"a\"", "ARG A B=\"2\" C=\"\\\"x y\\\"\" D=\"\""}},
    {"single quotes protect blanks", "FROM a\nENV A='x  y'", {"FROM \"a\"", "ENV \"A\"=\"'x  y'\""}},

    // --- the other instructions ---
    {"WORKDIR keeps blanks", "FROM a\nWORKDIR /my app", {"FROM \"a\"", "WORKDIR \"/my app\""}},
    {"USER", "FROM a\nUSER app:staff", {"FROM \"a\"", "USER \"app:staff\""}},
    {"EXPOSE", "FROM a\nEXPOSE 80 443/tcp 53/udp", {"FROM \"a\"", "EXPOSE [\"80\",\"443/tcp\",\"53/udp\"]"}},
    {"STOPSIGNAL", "FROM a\nSTOPSIGNAL SIGQUIT", {"FROM \"a\"", "STOPSIGNAL \"SIGQUIT\""}},
    {"HEALTHCHECK with every flag",
     "FROM a\nHEALTHCHECK --interval=30s --timeout=1m30s --start-period=1.5s --start-interval=250ms --retries=3 "
     "CMD curl -f http://localhost/ || exit 1",
     {"FROM \"a\"", "HEALTHCHECK interval=30000000000 timeout=90000000000 start-period=1500000000 "
                    "start-interval=250000000 retries=3 [\"CMD-SHELL\",\"curl -f http://localhost/ || exit 1\"]"}},
    {"HEALTHCHECK exec form", "FROM a\nHEALTHCHECK CMD [\"/bin/check\", \"-q\"]",
     {"FROM \"a\"", "HEALTHCHECK [\"CMD\",\"/bin/check\",\"-q\"]"}},
    {"HEALTHCHECK NONE", "FROM a\nhealthcheck none", {"FROM \"a\"", "HEALTHCHECK [\"NONE\"]"}},
    {"ONBUILD", "FROM a\nONBUILD RUN make install\nonbuild COPY --chown=1 . /src",
     {"FROM \"a\"", "ONBUILD \"RUN make install\"", "ONBUILD \"COPY --chown=1 . /src\""}},
    {"ONBUILD with a heredoc keeps the body", "FROM a\nONBUILD RUN <<EOF\nmake\nEOF",
     {"FROM \"a\"", "ONBUILD \"RUN <<EOF\\nmake\\nEOF\""}},
    {"MAINTAINER", "FROM a\nMAINTAINER Jane <jane@example.com>", {"FROM \"a\"", "MAINTAINER \"Jane <jane@example.com>\""}},
    {"several stages", "FROM a AS one\nRUN x\nFROM one\nFROM b AS Three",
     {"FROM \"a\" AS one", "RUN sh[\"x\"]", "FROM \"one\"", "FROM \"b\" AS three"}},
};

TEST(Parser, Table) {
  for (const auto& c : parse_cases) {
    SCOPED_TRACE(c.name);
    try {
      Dockerfile dockerfile = parse_dockerfile(c.text);
      EXPECT_EQ(describe(dockerfile), c.expected) << c.text;
    } catch (const Error& e) {
      ADD_FAILURE() << c.text << "\n-> " << e.what();
    }
  }
}

struct ErrorCase {
  const char* text;
  const char* message;  // the whole error message
};

// Bad Dockerfiles: one line naming the file, the line and what is wrong.
const ErrorCase error_cases[] = {
    {"FROM a\nRUNN echo", "Dockerfile:2: unknown instruction: RUNN (did you mean RUN?)"},
    {"FROM a\n\nCPOY a b", "Dockerfile:3: unknown instruction: CPOY (did you mean COPY?)"},
    {"FROM a\nfoobarbaz x", "Dockerfile:2: unknown instruction: FOOBARBAZ"},
    {"FROM a\nRUN a \\\n b\nRUN <<EOF\nl1\nEOF\nCOPYY a b", "Dockerfile:7: unknown instruction: COPYY (did you mean COPY?)"},
    {"", "Dockerfile: file with no instructions"},
    {"# only a comment\n\n", "Dockerfile: file with no instructions"},
    {"ARG A=1", "Dockerfile: no build stage: the file has no FROM instruction"},
    {"RUN x\nFROM a",
     "Dockerfile:1: no build stage in current context: RUN must come after a FROM (only ARG may precede the first FROM)"},
    {"# escape=`\n# escape=\\\nFROM a", "Dockerfile:2: only one escape parser directive can be used"},
    {"# escape=x\nFROM a", "Dockerfile:1: invalid escape token 'x' does not match ` or \\"},
    {"FROM a\nRUN <<EOF\nnever ends", "Dockerfile:2: unterminated heredoc <<EOF (no line \"EOF\" ends it)"},
    {"FROM a\nRUN [\"echo\", 1]", "Dockerfile:2: when using JSON array syntax, arrays must be comprised of strings only"},
    {"FROM a\nUSER <<X\nX", "Dockerfile:3: unknown instruction: X"},
    {"FROM a\nCOPY a <<EOF\nx\nEOF", "Dockerfile:2: COPY cannot accept a heredoc as a destination"},
    {"FROM a\nCOPY --chmod=abc a b", "Dockerfile:2: invalid --chmod value \"abc\": give an octal mode such as 0755"},
    {"FROM a\nCOPY --frm=x a b", "Dockerfile:2: unknown flag: --frm (did you mean --from?)"},
    {"FROM a\nCOPY --from a b", "Dockerfile:2: missing a value on flag: --from"},
    {"FROM a\nCOPY --from=a --from=b c d", "Dockerfile:2: duplicate flag specified: --from"},
    {"FROM a\nCOPY --link=maybe a b", "Dockerfile:2: expecting boolean value for flag --link, not: maybe"},
    {"FROM a\nCOPY onlyone",
     "Dockerfile:2: COPY requires at least two arguments, but only one was provided. Destination could not be "
     "determined"},
    {"FROM a\nADD --from=x a b", "Dockerfile:2: unknown flag: --from"},
    {"FROM a\nENV --x=1 A=b", "Dockerfile:2: unknown flag: --x"},
    {"FROM a\nRUN --mount=type=bogus,target=/x make", "Dockerfile:2: unsupported mount type \"bogus\""},
    {"FROM a\nRUN --mount=type=cach,target=/x make", "Dockerfile:2: unsupported mount type \"cach\" (did you mean cache?)"},
    {"FROM a\nRUN --mount=type=bind,uid=1,target=/x make", "Dockerfile:2: uid not allowed for \"bind\" type mounts"},
    {"FROM a\nRUN --mount=from=$X,target=/x make",
     "Dockerfile:2: 'from' doesn't support variable expansion, define alias stage instead"},
    {"FROM a\nRUN --network=bridge make", "Dockerfile:2: unsupported network mode \"bridge\" (use default, none or host)"},
    {"FROM a\nRUN --security=insecure make",
     "Dockerfile:2: RUN --security=insecure is not supported: build steps always run confined (seccomp, reduced "
     "capabilities)"},
    {"FROM a\nRUN --device=/dev/kvm make", "Dockerfile:2: RUN --device is not supported: build steps get no host devices"},
    {"FROM a\nRUN", "Dockerfile:2: RUN requires at least one argument"},
    {"FROM a\nRUN []", "Dockerfile:2: RUN requires at least one argument"},
    {"FROM a AS 1st", "Dockerfile:1: invalid name for build stage: \"1st\", name can't start with a number or contain symbols"},
    {"FROM a b", "Dockerfile:1: FROM requires either one or three arguments (FROM image [AS name])"},
    {"FROM", "Dockerfile:1: FROM requires either one or three arguments (FROM image [AS name])"},
    {"FROM a AS x\nFROM b AS X", "Dockerfile:2: duplicate stage name \"x\": stage names must be unique"},
    {"FROM a\nENV A", "Dockerfile:2: ENV must have two arguments"},
    {"FROM a\nENV A=1 B", "Dockerfile:2: Syntax error - can't find = in \"B\". Must be of the form: name=value"},
    {"FROM a\nENV =x", "Dockerfile:2: ENV names can not be blank"},
    {"FROM a\nLABEL", "Dockerfile:2: LABEL requires at least one argument"},
    {"FROM a\nARG", "Dockerfile:2: ARG requires at least one argument"},
    {"FROM a\nARG =x", "Dockerfile:2: ARG names can not be blank"},
    {"FROM a\nWORKDIR", "Dockerfile:2: WORKDIR requires exactly one argument"},
    {"FROM a\nSHELL /bin/bash -c", "Dockerfile:2: SHELL requires the arguments to be in JSON form: SHELL [\"executable\", \"parameters\"]"},
    {"FROM a\nSHELL []", "Dockerfile:2: SHELL requires at least one argument"},
    {"FROM a\nVOLUME [\"\"]", "Dockerfile:2: VOLUME specified can not be an empty string"},
    {"FROM a\nEXPOSE", "Dockerfile:2: EXPOSE requires at least one argument"},
    {"FROM a\nHEALTHCHECK NONE x", "Dockerfile:2: HEALTHCHECK NONE takes no arguments"},
    {"FROM a\nHEALTHCHECK --interval=1s NONE", "Dockerfile:2: HEALTHCHECK NONE takes no flags"},
    {"FROM a\nHEALTHCHECK FOO x", "Dockerfile:2: Unknown type \"FOO\" in HEALTHCHECK (try CMD)"},
    {"FROM a\nHEALTHCHECK CMD", "Dockerfile:2: Missing command after HEALTHCHECK CMD"},
    {"FROM a\nHEALTHCHECK --interval=1us CMD x", "Dockerfile:2: Interval \"interval\" cannot be less than 1ms"},
    {"FROM a\nHEALTHCHECK --retries=-1 CMD x", "Dockerfile:2: --retries cannot be negative (-1)"},
    {"FROM a\nHEALTHCHECK --timeout=5x CMD x", "Dockerfile:2: time: unknown unit \"x\" in duration \"5x\""},
    {"FROM a\nHEALTHCHECK --timeout=5 CMD x", "Dockerfile:2: time: missing unit in duration \"5\""},
    {"FROM a\nONBUILD ONBUILD RUN x", "Dockerfile:2: Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed"},
    {"FROM a\nONBUILD FROM b", "Dockerfile:2: FROM isn't allowed as an ONBUILD trigger"},
    {"FROM a\nONBUILD COPY --frm=a b c", "Dockerfile:2: unknown flag: --frm (did you mean --from?)"},
    {"FROM a\nONBUILD", "Dockerfile:2: ONBUILD requires at least one argument"},
    {"FROM a\nMAINTAINER", "Dockerfile:2: MAINTAINER requires exactly one argument"},
};

TEST(Parser, ErrorsNameFileLineAndProblem) {
  for (const auto& c : error_cases) {
    SCOPED_TRACE(c.text);
    try {
      parse_dockerfile(c.text);
      ADD_FAILURE() << "parsed without error";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind() == ErrorKind::invalid_argument || e.kind() == ErrorKind::unsupported, true);
      EXPECT_EQ(std::string(e.what()), c.message);
    }
  }
}

TEST(Parser, FileNameInErrors) {
  try {
    parse_dockerfile("FROM a\nBOGUS", "app/Containerfile");
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "app/Containerfile:2: unknown instruction: BOGUS");
  }
}

TEST(Parser, DirectivesAndWarnings) {
  Dockerfile d = parse_dockerfile("# syntax=docker/dockerfile:1\n# check=error=true\n# escape=`\nFROM a\nRUN a `\n\n b\nMAINTAINER me");
  EXPECT_EQ(d.syntax, "docker/dockerfile:1");
  EXPECT_EQ(d.check, "error=true");
  EXPECT_EQ(d.escape, '`');
  ASSERT_EQ(d.warnings.size(), 2u);
  EXPECT_EQ(d.warnings[0], "Dockerfile:7: empty continuation line found in: RUN a  b");
  EXPECT_NE(d.warnings[1].find("Dockerfile:8: MAINTAINER is deprecated"), std::string::npos);
  EXPECT_EQ(parse_dockerfile("FROM a").escape, '\\');
}

TEST(Parser, LineRanges) {
  Dockerfile d = parse_dockerfile("ARG X\n\nFROM a\nRUN a \\\n  b \\\n  c\nCOPY <<EOF /x\n1\n2\nEOF\nUSER u\n");
  ASSERT_EQ(d.stages.size(), 1u);
  EXPECT_EQ(d.global_args[0].lines.first, 1);
  EXPECT_EQ(d.stages[0].from_instruction.lines.first, 3);
  const auto& ins = d.stages[0].instructions;
  ASSERT_EQ(ins.size(), 3u);
  EXPECT_EQ(ins[0].lines.first, 4);
  EXPECT_EQ(ins[0].lines.last, 6);
  EXPECT_EQ(ins[0].text, "RUN a   b   c");
  EXPECT_EQ(ins[1].lines.first, 7);
  EXPECT_EQ(ins[1].lines.last, 10);
  EXPECT_EQ(ins[2].lines.first, 11);
}

TEST(Parser, StagesAndNames) {
  Dockerfile d = parse_dockerfile("FROM a AS Build\nRUN x\nFROM build\nCOPY --from=BUILD /a /b\nFROM c");
  ASSERT_EQ(d.stages.size(), 3u);
  EXPECT_EQ(d.stages[0].name, "build");
  EXPECT_EQ(d.stages[1].name, "");
  EXPECT_EQ(d.stages[1].from.image, "build");
  EXPECT_EQ(d.stages[2].index, 2u);
  EXPECT_EQ(d.find_stage("BUILD"), &d.stages[0]);
  EXPECT_EQ(d.find_stage("nope"), nullptr);
  EXPECT_EQ(d.stages[0].instructions.size(), 1u);
  EXPECT_EQ(d.stages[1].instructions.size(), 1u);
}

TEST(Parser, OnbuildTriggersParseAgain) {
  Dockerfile d = parse_dockerfile("FROM a\nONBUILD RUN <<-EOF\n\tmake\n\tEOF\nONBUILD COPY . /src");
  std::vector<std::string> triggers;
  for (const auto& ins : d.stages[0].instructions) triggers.push_back(ins.as<OnbuildInstruction>().trigger);
  auto parsed = parse_onbuild_triggers(triggers, "image base:1");
  ASSERT_EQ(parsed.size(), 2u);
  EXPECT_EQ(testing::describe(parsed[0]), "RUN sh[\"<<-EOF\"] <<EOF(chomp)=\"make\\n\"");
  EXPECT_EQ(testing::describe(parsed[1]), "COPY [\".\"] -> \"/src\"");
  try {
    parse_onbuild_triggers({"RUN x", "FROM y"}, "image base:1");
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "image base:1: ONBUILD trigger 2 (FROM y): FROM isn't allowed as an ONBUILD trigger");
  }
  EXPECT_THROW(parse_onbuild_triggers({"BOGUS x"}, "i"), Error);
}

TEST(Parser, Mounts) {
  RunMount cache = parse_mount("type=cache,target=/root/.cache,id=go,sharing=locked,mode=0700,uid=1000");
  EXPECT_EQ(cache.type, RunMount::Type::cache);
  EXPECT_EQ(cache.target, "/root/.cache");
  EXPECT_EQ(cache.id, "go");
  EXPECT_EQ(cache.sharing, "locked");
  EXPECT_EQ(*cache.mode, 0700u);
  EXPECT_EQ(*cache.uid, 1000u);
  EXPECT_FALSE(cache.read_only);  // caches and tmpfs are writable by default

  RunMount bind = parse_mount("target=/src,from=build,source=/out,rw");
  EXPECT_EQ(bind.type, RunMount::Type::bind);
  EXPECT_EQ(bind.from, "build");
  EXPECT_EQ(bind.source, "/out");
  EXPECT_FALSE(bind.read_only);
  EXPECT_TRUE(parse_mount("type=bind,dst=/x").read_only);  // binds are read-only by default

  RunMount tmpfs = parse_mount("type=tmpfs,target=/tmp,size=64m");
  EXPECT_EQ(tmpfs.size_limit, 64 << 20);
  RunMount secret = parse_mount("type=secret,id=npmrc,target=/root/.npmrc,required,env=TOKEN");
  EXPECT_TRUE(secret.required);
  EXPECT_EQ(*secret.env, "TOKEN");
  RunMount quoted = parse_mount("type=bind,\"target=/a,b\"");
  EXPECT_EQ(quoted.target, "/a,b");

  EXPECT_THROW(parse_mount("type=cache,target=/x,sharing=maybe"), Error);
  EXPECT_THROW(parse_mount("type=secret,id=a,source=b"), Error);
  EXPECT_THROW(parse_mount("type=secret,from=x,id=a"), Error);
  EXPECT_THROW(parse_mount("type=bind,target=/x,sharing=shared"), Error);
  EXPECT_THROW(parse_mount("type=bind,target=/x,size=1m"), Error);
  EXPECT_THROW(parse_mount("type=cache,target=/x,mode=9"), Error);
  EXPECT_THROW(parse_mount("type=cache,target=/x,ro=perhaps"), Error);
  EXPECT_THROW(parse_mount("type=cache"), Error);  // no target
  EXPECT_THROW(parse_mount("type=cache,target=/x,bogus=1"), Error);
  EXPECT_THROW(parse_mount("type=cache,target=/x,noequals"), Error);
  EXPECT_EQ(mount_from("type=bind,from=build,target=/x"), "build");
  EXPECT_EQ(mount_from("type=cache,target=/x"), "");
}

TEST(Parser, Durations) {
  EXPECT_EQ(parse_duration("0"), 0);
  EXPECT_EQ(parse_duration("30s"), 30'000'000'000);
  EXPECT_EQ(parse_duration("1m30s"), 90'000'000'000);
  EXPECT_EQ(parse_duration("1.5h"), 5'400'000'000'000);
  EXPECT_EQ(parse_duration("250ms"), 250'000'000);
  EXPECT_EQ(parse_duration("10us"), 10'000);
  EXPECT_EQ(parse_duration("10µs"), 10'000);
  EXPECT_EQ(parse_duration("7ns"), 7);
  EXPECT_EQ(parse_duration("-2s"), -2'000'000'000);
  EXPECT_THROW(parse_duration(""), Error);
  EXPECT_THROW(parse_duration("s"), Error);
  EXPECT_THROW(parse_duration("1"), Error);
  EXPECT_THROW(parse_duration("1.2.3s"), Error);
  EXPECT_THROW(parse_duration("3 days"), Error);
}

TEST(Parser, ClosestMatch) {
  std::vector<std::string> names = {"FROM", "RUN", "COPY", "ENTRYPOINT"};
  EXPECT_EQ(closest_match("RUNN", names), "RUN");
  EXPECT_EQ(closest_match("cpoy", names), "COPY");
  EXPECT_EQ(closest_match("ENTRYPIONT", names), "ENTRYPOINT");
  EXPECT_EQ(closest_match("XYZZY", names), "");
}

}  // namespace

}  // namespace skiff::builder
