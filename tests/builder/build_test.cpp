// skiff build end to end on busybox images: stages and --target, the cache,
// COPY/ADD and their flags, USER/WORKDIR, .dockerignore, heredocs, build
// args, reproducibility.
#include <archive.h>
#include <archive_entry.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>

#include "builder/build_fixture.h"
#include "core/pipe.h"
#include "support/registry.h"

namespace skiff::test {

TEST_F(BuildTest, TargetSkipsStagesItDoesNotNeed) {
  write("Dockerfile",
        "FROM busybox:test AS broken\n"
        "RUN exit 3\n"
        "FROM busybox:test AS base\n"
        "RUN echo base > /base.txt\n"
        "FROM busybox:test AS unused\n"
        "RUN exit 4\n"
        "FROM base AS final\n"
        "COPY --from=base /base.txt /copied.txt\n"
        "RUN cat /copied.txt\n");
  std::vector<StepLine> steps;
  std::string id = build_ok({"--target", "final", "-t", "app:final"}, &steps);
  ASSERT_FALSE(id.empty());
  for (const auto& step : steps) {
    EXPECT_EQ(step.name.find("[broken"), std::string::npos) << step.name;
    EXPECT_EQ(step.name.find("[unused"), std::string::npos) << step.name;
  }
  EXPECT_EQ(state_of(steps, "RUN echo base > /base.txt"), "DONE");
  EXPECT_EQ(state_of(steps, "COPY --from=base /base.txt /copied.txt"), "DONE");
  EXPECT_EQ(run_in("app:final", "cat /copied.txt /base.txt"), "base\nbase\n");

  // The skipped stage would have failed: built as the target, it does.
  auto failed = build({"-q", "--target", "broken"});
  EXPECT_NE(failed.exit_code, 0);
  EXPECT_EQ(failed.err,
            "skiff: Dockerfile:2: RUN exit 3: process \"/bin/sh -c exit 3\" did not complete successfully: exit code: "
            "3\n");
}

TEST_F(BuildTest, ChangedFileRerunsExactlyTheStepsFromItOn) {
  write("a.txt", "a1\n");
  write("b.txt", "b1\n");
  const std::string dockerfile =
      "FROM busybox:test\n"
      "RUN echo one > /one\n"
      "COPY a.txt /a.txt\n"
      "RUN cat /a.txt > /a.copy\n"
      "ENV STAGE=two\n"
      "COPY b.txt /b.txt\n"
      "RUN cat /b.txt > /b.copy\n";
  write("Dockerfile", dockerfile);
  const std::vector<std::string> layer_steps = {"RUN echo one > /one", "COPY a.txt /a.txt", "RUN cat /a.txt > /a.copy",
                                                "COPY b.txt /b.txt", "RUN cat /b.txt > /b.copy"};
  auto states = [&](const std::vector<StepLine>& steps) {
    std::vector<std::string> out;
    for (const auto& text : layer_steps) out.push_back(state_of(steps, text));
    return out;
  };
  using V = std::vector<std::string>;
  std::vector<StepLine> steps;
  std::string first = build_ok({"-t", "cached:1"}, &steps);
  EXPECT_EQ(states(steps), V({"DONE", "DONE", "DONE", "DONE", "DONE"}));

  std::string again = build_ok({}, &steps);
  EXPECT_EQ(states(steps), V({"CACHED", "CACHED", "CACHED", "CACHED", "CACHED"}));
  EXPECT_EQ(again, first);

  write("b.txt", "b2\n");
  std::string changed_b = build_ok({"-t", "cached:2"}, &steps);
  EXPECT_EQ(states(steps), V({"CACHED", "CACHED", "CACHED", "DONE", "DONE"}));
  EXPECT_NE(changed_b, first);
  EXPECT_EQ(run_in("cached:2", "cat /a.copy /b.copy"), "a1\nb2\n");

  write("a.txt", "a2\n");
  build_ok({"-t", "cached:3"}, &steps);
  EXPECT_EQ(states(steps), V({"CACHED", "DONE", "DONE", "DONE", "DONE"}));
  EXPECT_EQ(run_in("cached:3", "cat /a.copy /b.copy"), "a2\nb2\n");

  // A config-only change re-runs nothing; --no-cache re-runs everything.
  write("Dockerfile", dockerfile + "LABEL changed=yes\n");
  build_ok({}, &steps);
  EXPECT_EQ(states(steps), V({"CACHED", "CACHED", "CACHED", "CACHED", "CACHED"}));
  build_ok({"--no-cache"}, &steps);
  EXPECT_EQ(states(steps), V({"DONE", "DONE", "DONE", "DONE", "DONE"}));

  // The cache is in the store: a new process (every skiff call is one) and
  // a removed image do not lose it.
  cli.ok({"rmi", "cached:1", "cached:2", "cached:3"});
  build_ok({}, &steps);
  EXPECT_EQ(states(steps), V({"CACHED", "CACHED", "CACHED", "CACHED", "CACHED"}));
}

TEST_F(BuildTest, CopyFromStageAndImageWithOwnersAndModes) {
  TestImage other;
  other.name = "other:test";
  other.files = {{"/data/from-image.txt", "from the image\n"}};
  add_busybox_image(cli.root(), other);
  write("file.txt", "context file\n");
  write("Dockerfile",
        "FROM busybox:test AS src\n"
        "RUN mkdir -p /out/sub && echo hi > /out/sub/hi.txt && chown -R 1000:1000 /out && chmod 0640 /out/sub/hi.txt\n"
        "FROM busybox:test\n"
        "COPY --from=src /out /kept\n"
        "COPY --from=other:test /data/from-image.txt /img.txt\n"
        "COPY --chown=containeruser:containeruser --chmod=0600 file.txt /owned.txt\n"
        "COPY --chown=1234 file.txt /numeric.txt\n"
        "COPY --chmod=0755 --from=src /out/sub/hi.txt /bin/hi-exec\n"
        "COPY file.txt /by-root.txt\n");
  build_ok({"-t", "copies:1"});
  EXPECT_EQ(run_in("copies:1",
                   "stat -c '%n %u:%g %a' /kept/sub/hi.txt /kept/sub /img.txt /owned.txt /numeric.txt /bin/hi-exec "
                   "/by-root.txt; cat /img.txt /owned.txt"),
            "/kept/sub/hi.txt 1000:1000 640\n"
            "/kept/sub 1000:1000 755\n"
            "/img.txt 0:0 755\n"
            "/owned.txt 1000:1000 600\n"
            "/numeric.txt 1234:1234 644\n"
            "/bin/hi-exec 1000:1000 755\n"
            "/by-root.txt 0:0 644\n"
            "from the image\ncontext file\n");
}

TEST_F(BuildTest, UserAndWorkdirReachLaterStepsAndTheConfig) {
  write("Dockerfile",
        "FROM busybox:test\n"
        "WORKDIR /srv/app\n"
        "RUN pwd > /tmp/run-pwd\n"
        "USER containeruser\n"
        "WORKDIR data\n"
        "RUN id -u > /tmp/run-uid && pwd > /tmp/run-pwd2 && touch mine\n"
        "COPY --chown=containeruser <<EOF notes.txt\n"
        "notes\n"
        "EOF\n");
  build_ok({"-t", "user:1"});
  Json config = inspect("user:1")["Config"];
  EXPECT_EQ(config.value("User", ""), "containeruser");
  EXPECT_EQ(config.value("WorkingDir", ""), "/srv/app/data");
  EXPECT_EQ(run_in("user:1",
                   "cat /tmp/run-pwd /tmp/run-pwd2 /tmp/run-uid; id -u; pwd; stat -c '%n %u' /srv/app /srv/app/data mine notes.txt"),
            "/srv/app\n/srv/app/data\n1000\n1000\n/srv/app/data\n"
            "/srv/app 0\n/srv/app/data 1000\nmine 1000\nnotes.txt 1000\n");
}

TEST_F(BuildTest, DockerignoreHidesFilesFromCopy) {
  write(".dockerignore", "# comment\nsecret*\n!secret-ok.txt\nbuild/\n");
  write("keep.txt", "keep\n");
  write("secret.txt", "do not copy\n");
  write("secret-ok.txt", "re-included\n");
  write("build/out.o", "object\n");
  write("src/main.c", "int main;\n");
  write("Dockerfile", "FROM busybox:test\nCOPY . /ctx/\n");
  build_ok({"-t", "ignore:1"});
  EXPECT_EQ(run_in("ignore:1", "cd /ctx && find . -type f | sort"),
            "./.dockerignore\n./Dockerfile\n./keep.txt\n./secret-ok.txt\n./src/main.c\n");

  write("Dockerfile", "FROM busybox:test\nCOPY secret.txt /\n");
  auto failed = build({"-q"});
  EXPECT_NE(failed.exit_code, 0);
  EXPECT_EQ(failed.err, "skiff: Dockerfile:2: COPY secret.txt /: \"/secret.txt\": not found (excluded by .dockerignore)\n");
}

TEST_F(BuildTest, AddExtractsALocalTarAndCopyDoesNot) {
  // files.tar.gz: dir/inner.txt and dir/link -> inner.txt
  {
    auto path = context() / "files.tar.gz";
    struct archive* a = archive_write_new();
    archive_write_add_filter_gzip(a);
    archive_write_set_format_pax_restricted(a);
    ASSERT_EQ(archive_write_open_filename(a, path.c_str()), ARCHIVE_OK);
    auto add = [&](const char* name, mode_t type, const std::string& content, const char* link = nullptr) {
      struct archive_entry* e = archive_entry_new();
      archive_entry_set_pathname(e, name);
      archive_entry_set_filetype(e, type);
      archive_entry_set_perm(e, type == AE_IFDIR ? 0755 : 0644);
      archive_entry_set_size(e, static_cast<la_int64_t>(content.size()));
      if (link) archive_entry_set_symlink(e, link);
      archive_write_header(a, e);
      if (!content.empty()) archive_write_data(a, content.data(), content.size());
      archive_entry_free(e);
    };
    add("dir", AE_IFDIR, "");
    add("dir/inner.txt", AE_IFREG, "inside the tar\n");
    add("dir/link", AE_IFLNK, "", "inner.txt");
    archive_write_close(a);
    archive_write_free(a);
  }
  write("Dockerfile",
        "FROM busybox:test\n"
        "ADD files.tar.gz /opt/\n"
        "COPY files.tar.gz /raw/\n");
  build_ok({"-t", "add:1"});
  EXPECT_EQ(run_in("add:1", "cat /opt/dir/inner.txt /opt/dir/link; readlink /opt/dir/link; ls /raw"),
            "inside the tar\ninside the tar\ninner.txt\nfiles.tar.gz\n");
}

TEST_F(BuildTest, HeredocsRunAndCopy) {
  write("Dockerfile",
        "FROM busybox:test\n"
        "ARG WHO=world\n"
        "RUN <<EOF\n"
        "echo first > /h1\n"
        "echo second >> /h1\n"
        "EOF\n"
        "RUN <<EOT\n"
        "#!/bin/sh\n"
        "echo \"script $0\" > /h2\n"
        "EOT\n"
        "COPY <<EOF /etc/greeting\n"
        "hello $WHO\n"
        "EOF\n"
        "COPY <<'EOF' /etc/literal\n"
        "hello $WHO\n"
        "EOF\n");
  build_ok({"-t", "heredoc:1", "--build-arg", "WHO=skiff"});
  EXPECT_EQ(run_in("heredoc:1", "cat /h1 /h2 /etc/greeting /etc/literal"),
            "first\nsecond\nscript /dev/pipes/EOT\nhello skiff\nhello $WHO\n");
}

TEST_F(BuildTest, ShellChangesHowRunRuns) {
  write("Dockerfile", "FROM busybox:test\nSHELL [\"/bin/sh\", \"-xc\"]\nRUN echo traced > /t\n");
  auto built = build({"-t", "shell:1"});
  ASSERT_EQ(built.exit_code, 0) << built.err;
  EXPECT_NE(built.err.find("+ echo traced"), std::string::npos) << built.err;
  EXPECT_EQ(inspect("shell:1")["Config"]["Shell"], Json({"/bin/sh", "-xc"}));
}

TEST_F(BuildTest, BuildArgsReachRunAndKeyTheCache) {
  write("Dockerfile",
        "ARG BASE=busybox:test\n"
        "FROM $BASE\n"
        "ARG NAME=default\n"
        "ARG UNUSED=x\n"
        "RUN echo \"$NAME\" > /name\n");
  std::vector<StepLine> steps;
  build_ok({"-t", "args:default"}, &steps);
  EXPECT_EQ(state_of(steps, "RUN echo \"$NAME\" > /name"), "DONE");
  build_ok({"-t", "args:given", "--build-arg", "NAME=given"}, &steps);
  EXPECT_EQ(state_of(steps, "RUN echo \"$NAME\" > /name"), "DONE");
  build_ok({"--build-arg", "NAME=given"}, &steps);
  EXPECT_EQ(state_of(steps, "RUN echo \"$NAME\" > /name"), "CACHED");
  EXPECT_EQ(run_in("args:default", "cat /name"), "default\n");
  EXPECT_EQ(run_in("args:given", "cat /name"), "given\n");
  // Build args are not in the image's environment.
  EXPECT_EQ(run_in("args:given", "echo \"[$NAME]\""), "[]\n");

  auto warned = build({"--build-arg", "NOBODY=1"});
  EXPECT_EQ(warned.exit_code, 0) << warned.err;
  EXPECT_NE(warned.err.find("[Warning] One or more build-args [NOBODY] were not consumed"), std::string::npos)
      << warned.err;
}

TEST_F(BuildTest, IdenticalInputsGiveIdenticalDigests) {
  write("app.txt", "app\n");
  write("Dockerfile",
        "FROM busybox:test AS build\n"
        "RUN mkdir /out && echo built > /out/result && date > /out/when-ignored-by-nobody\n"
        "FROM busybox:test\n"
        "COPY app.txt /app/\n"
        "COPY --from=build /out/result /app/result\n"
        "RUN echo done > /app/done\n"
        "CMD [\"cat\", \"/app/result\"]\n");
  std::string first = build_ok({"-t", "same:1"});
  std::string rebuilt = build_ok({"--no-cache", "-t", "same:2"});
  EXPECT_EQ(rebuilt, first) << "timestamps or other run-specific bytes leaked into the image";

  SkiffCli elsewhere;  // another store, another cache
  add_busybox_image(elsewhere.root(), {});
  auto iid = context().parent_path() / (context().filename().string() + ".elsewhere");
  auto result = elsewhere.run({"build", "-q", "--iidfile", iid.string(), context().string()});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(read_file(iid), first);
  std::filesystem::remove(iid);

  Json image = inspect("same:1");
  EXPECT_EQ(image.value("Created", ""), "1970-01-01T00:00:00Z");  // the base's created: SOURCE_DATE_EPOCH 0
}

TEST_F(BuildTest, SourceDateEpochSetsCreatedAndChangesTheDigest) {
  write("Dockerfile", "FROM busybox:test\nRUN echo x > /x\n");
  std::string plain = build_ok();
  std::string dated = build_ok({"--build-arg", "SOURCE_DATE_EPOCH=1700000000", "-t", "dated:1"});
  EXPECT_NE(dated, plain);
  EXPECT_EQ(inspect("dated:1").value("Created", ""), "2023-11-14T22:13:20Z");
  EXPECT_EQ(run_in("dated:1", "stat -c %Y /x"), "1700000000\n");
}

TEST_F(BuildTest, NetworkNoneCutsRunOff) {
  write("Dockerfile", "FROM busybox:test\nRUN ip link | grep -c 'state' > /links; ls /sys/class/net | sort > /ifaces\n");
  build_ok({"--network", "none", "-t", "net:none"});
  EXPECT_EQ(run_in("net:none", "cat /ifaces"), "lo\n");
}

TEST_F(BuildTest, OnbuildTriggersFireInTheNextBuild) {
  write("Dockerfile",
        "FROM busybox:test\n"
        "ONBUILD COPY trigger.txt /from-trigger.txt\n"
        "ONBUILD RUN echo fired > /fired\n");
  write("trigger.txt", "copied by a trigger\n");
  build_ok({"-t", "parent:onbuild"});
  Json parent = inspect("parent:onbuild");
  EXPECT_EQ(parent["Config"]["OnBuild"].size(), 2u) << parent.dump();

  write("Dockerfile", "FROM parent:onbuild\nRUN cat /fired\n");
  build_ok({"-t", "child:onbuild"});
  EXPECT_EQ(run_in("child:onbuild", "cat /from-trigger.txt /fired"), "copied by a trigger\nfired\n");
  EXPECT_FALSE(inspect("child:onbuild")["Config"].contains("OnBuild"));
}

TEST_F(BuildTest, IndependentStagesBuildAndCombine) {
  write("Dockerfile",
        "FROM busybox:test AS left\n"
        "RUN echo left > /left\n"
        "FROM busybox:test AS right\n"
        "RUN echo right > /right\n"
        "FROM busybox:test\n"
        "COPY --from=left /left /\n"
        "COPY --from=right /right /\n");
  build_ok({"-t", "waves:1"});
  EXPECT_EQ(run_in("waves:1", "cat /left /right"), "left\nright\n");
}

TEST_F(BuildTest, BuilderPruneReclaimsWhatNoImageUses) {
  write("Dockerfile",
        "FROM busybox:test AS build\n"
        "RUN dd if=/dev/zero of=/big bs=1024 count=512 2>/dev/null && echo result > /result\n"
        "FROM busybox:test\n"
        "COPY --from=build /result /result\n");
  build_ok({"-t", "pruned:1"});
  auto du = cli.ok({"builder", "du"});
  EXPECT_NE(du.find("Entries:   2"), std::string::npos) << du;

  auto pruned = cli.ok({"builder", "prune", "-f"});
  EXPECT_NE(pruned.find("Deleted build cache entries: 1 (1 snapshots, 1 blobs)"), std::string::npos) << pruned;
  std::vector<StepLine> steps;
  build_ok({}, &steps);  // the build stage runs again, the final COPY is still cached
  EXPECT_EQ(state_of(steps, "RUN dd if=/dev/zero of=/big bs=1024 count=512 2>/dev/null && echo result > /result"),
            "DONE");
  EXPECT_EQ(state_of(steps, "COPY --from=build /result /result"), "CACHED");

  pruned = cli.ok({"builder", "prune", "--all", "-f"});
  EXPECT_NE(pruned.find("Deleted build cache entries: 2"), std::string::npos) << pruned;
  EXPECT_EQ(run_in("pruned:1", "cat /result"), "result\n");  // the image keeps its layers
  build_ok({}, &steps);
  EXPECT_EQ(state_of(steps, "COPY --from=build /result /result"), "DONE");
}

TEST_F(BuildTest, DockerfileFromStdinWithLabelsAndParents) {
  write("src/a/x.txt", "x\n");
  write("src/b/y.txt", "y\n");
  CommandOptions options;
  options.input = "FROM busybox:test\nCOPY --parents src/a/x.txt src/b/*.txt /out/\nLABEL from=dockerfile\n";
  auto built = cli.run({"build", "-q", "-f", "-", "-t", "stdin:1", "--label", "team=build", "--label", "from=flag",
                        context().string()},
                       options);
  ASSERT_EQ(built.exit_code, 0) << built.err;
  EXPECT_EQ(run_in("stdin:1", "cd /out && find . -type f | sort"), "./src/a/x.txt\n./src/b/y.txt\n");
  Json labels = inspect("stdin:1")["Config"]["Labels"];
  EXPECT_EQ(labels.value("team", ""), "build");
  EXPECT_EQ(labels.value("from", ""), "flag");  // --label wins over LABEL, as in docker
}

TEST_F(BuildTest, ImagesMissingFromTheStoreArePulled) {
  TestRegistry registry;
  TestImage other;
  other.name = "other:test";
  other.files = {{"/data/pulled.txt", "pulled for COPY --from\n"}};
  add_busybox_image(cli.root(), other);
  for (const char* name : {"busybox:test", "other:test"}) {
    std::string remote = registry.ref(std::string(name).substr(0, std::string(name).find(':'))) + ":1";
    cli.ok({"tag", name, remote});
    cli.ok({"push", remote});
  }
  SkiffCli fresh;  // a store that has neither image
  write("Dockerfile", "FROM " + registry.ref("busybox") + ":1\nCOPY --from=" + registry.ref("other") +
                          ":1 /data/pulled.txt /\nRUN cat /pulled.txt > /seen\n");
  auto built = fresh.run({"build", "--progress", "plain", "-t", "pulled:1", context().string()});
  ASSERT_EQ(built.exit_code, 0) << built.err;
  auto steps = parse_steps(built.err);
  EXPECT_EQ(state_of(steps, "pull " + registry.ref("busybox") + ":1"), "DONE") << built.err;
  EXPECT_EQ(fresh.ok({"run", "--rm", "pulled:1", "cat", "/seen"}), "pulled for COPY --from\n");
}

TEST_F(BuildTest, InterruptStopsTheRunAndLeavesNothingBehind) {
  // The command's text does not contain what it prints: seeing "running"
  // means the process runs.
  write("Dockerfile", "FROM busybox:test\nRUN echo run\"\"ning; sleep 120; echo finished > /never\n");
  Pipe err;
  std::string root = cli.root().string(), ctx = context().string(), binary = skiff_binary().string();
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::dup2(err.write.get(), STDERR_FILENO);
    ::setenv("SKIFF_CONFIG", "/nonexistent", 1);
    ::execl(binary.c_str(), binary.c_str(), "--root", root.c_str(), "build", "--progress", "plain", ctx.c_str(),
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  err.write.reset();
  std::string log;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (log.find(" running") == std::string::npos && std::chrono::steady_clock::now() < deadline) {
    pollfd p{err.read.get(), POLLIN, 0};
    if (::poll(&p, 1, 1000) <= 0) continue;
    char buffer[4096];
    ssize_t n = ::read(err.read.get(), buffer, sizeof buffer);
    if (n <= 0) break;
    log.append(buffer, static_cast<size_t>(n));
  }
  ASSERT_NE(log.find(" running"), std::string::npos) << log;
  ::kill(pid, SIGINT);
  for (char buffer[4096];;) {
    ssize_t n = ::read(err.read.get(), buffer, sizeof buffer);
    if (n <= 0) break;
    log.append(buffer, static_cast<size_t>(n));
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1) << status;
  EXPECT_NE(log.find("skiff: build interrupted by SIGINT: its containers were stopped; no image was tagged"),
            std::string::npos)
      << log;
  std::string mounts = read_file("/proc/self/mountinfo");
  EXPECT_EQ(mounts.find(root), std::string::npos) << "a build root is still mounted";
  EXPECT_TRUE(std::filesystem::is_empty(cli.root() / "tmp"));
  auto snapshots = cli.ok({"snapshot", "ls"});
  EXPECT_EQ(snapshots.find("build-"), std::string::npos) << snapshots;
}

}  // namespace skiff::test
