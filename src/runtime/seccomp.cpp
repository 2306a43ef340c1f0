#include "runtime/seccomp.h"

#include <errno.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <set>

#include "core/digest.h"
#include "core/error.h"
#include "core/fd.h"
#include "core/fs.h"
#include "core/host.h"
#include "core/log.h"

namespace skiff::runtime {

namespace {

[[noreturn]] void bad(std::string_view field, std::string_view what) {
  fail(ErrorKind::invalid_argument, "config.json: linux.seccomp{}: {}", field, what);
}

struct NamedValue {
  const char* name;
  std::uint32_t value;
};

constexpr NamedValue actions[] = {
    {"SCMP_ACT_KILL", SCMP_ACT_KILL},
    {"SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS},
    {"SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD},
    {"SCMP_ACT_TRAP", SCMP_ACT_TRAP},
    {"SCMP_ACT_ERRNO", SCMP_ACT_ERRNO(0)},
    {"SCMP_ACT_TRACE", SCMP_ACT_TRACE(0)},
    {"SCMP_ACT_ALLOW", SCMP_ACT_ALLOW},
    {"SCMP_ACT_LOG", SCMP_ACT_LOG},
};

constexpr std::pair<const char*, scmp_compare> operators[] = {
    {"SCMP_CMP_NE", SCMP_CMP_NE}, {"SCMP_CMP_LT", SCMP_CMP_LT}, {"SCMP_CMP_LE", SCMP_CMP_LE},
    {"SCMP_CMP_EQ", SCMP_CMP_EQ}, {"SCMP_CMP_GE", SCMP_CMP_GE}, {"SCMP_CMP_GT", SCMP_CMP_GT},
    {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
};

constexpr NamedValue filter_flags[] = {
    {"SECCOMP_FILTER_FLAG_TSYNC", SECCOMP_FILTER_FLAG_TSYNC},
    {"SECCOMP_FILTER_FLAG_LOG", SECCOMP_FILTER_FLAG_LOG},
    {"SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FILTER_FLAG_SPEC_ALLOW},
};

constexpr const char* architectures[] = {
    "SCMP_ARCH_X86",     "SCMP_ARCH_X86_64",   "SCMP_ARCH_X32",         "SCMP_ARCH_ARM",     "SCMP_ARCH_AARCH64",
    "SCMP_ARCH_MIPS",    "SCMP_ARCH_MIPS64",   "SCMP_ARCH_MIPS64N32",   "SCMP_ARCH_MIPSEL",  "SCMP_ARCH_MIPSEL64",
    "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC",  "SCMP_ARCH_PPC64",       "SCMP_ARCH_PPC64LE", "SCMP_ARCH_S390",
    "SCMP_ARCH_S390X",   "SCMP_ARCH_PARISC",   "SCMP_ARCH_PARISC64",    "SCMP_ARCH_RISCV64",
};

std::optional<std::uint32_t> action_from_name(std::string_view name) {
  for (const auto& a : actions)
    if (name == a.name) return a.value;
  return std::nullopt;
}

std::uint32_t action_value(const Json& object, const char* action_key, const char* errno_key, std::string_view field,
                           std::uint32_t default_errno) {
  auto it = object.find(action_key);
  if (it == object.end() || !it->is_string()) bad(field, fmt::format("{} missing", action_key));
  auto name = it->get<std::string>();
  if (name == "SCMP_ACT_NOTIFY")
    fail(ErrorKind::unsupported, "config.json: linux.seccomp{}: SCMP_ACT_NOTIFY (seccomp user notification) is not supported", field);
  auto action = action_from_name(name);
  if (!action) bad(field, fmt::format("unknown action \"{}\"", name));
  std::uint32_t err = default_errno;
  if (auto e = object.find(errno_key); e != object.end() && !e->is_null()) {
    if (!e->is_number_unsigned() || e->get<std::uint64_t>() > 0xffff) bad(field, fmt::format("{} must be an errno number", errno_key));
    err = e->get<std::uint32_t>();
  }
  if (name == "SCMP_ACT_ERRNO") return SCMP_ACT_ERRNO(err);
  if (name == "SCMP_ACT_TRACE") return SCMP_ACT_TRACE(err);
  return *action;
}

// "SCMP_ARCH_X86_64" -> libseccomp's token.
std::uint32_t resolve_arch(const std::string& name) {
  if (!name.starts_with("SCMP_ARCH_")) bad(".architectures", fmt::format("unknown architecture \"{}\"", name));
  std::string token = name.substr(10);
  for (auto& c : token) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::uint32_t arch = seccomp_arch_resolve_name(token.c_str());
  if (arch == 0) bad(".architectures", fmt::format("unknown architecture \"{}\"", name));
  return arch;
}

struct FilterContext {
  scmp_filter_ctx ctx;
  explicit FilterContext(std::uint32_t default_action) : ctx(seccomp_init(default_action)) {
    if (!ctx) fail(ErrorKind::internal, "seccomp: libseccomp could not create a filter");
  }
  ~FilterContext() { seccomp_release(ctx); }
  FilterContext(const FilterContext&) = delete;
  FilterContext& operator=(const FilterContext&) = delete;
};

std::vector<scmp_arg_cmp> parse_args(const Json& args, std::string_view field) {
  std::vector<scmp_arg_cmp> out;
  for (const auto& a : args) {
    if (!a.is_object()) bad(field, "args must be objects");
    auto index = a.value("index", std::uint64_t{99});
    if (index > 5) bad(field, "an argument index must be between 0 and 5");
    auto op_name = a.value("op", std::string());
    auto op = std::find_if(std::begin(operators), std::end(operators), [&](const auto& o) { return op_name == o.first; });
    if (op == std::end(operators)) bad(field, fmt::format("unknown operator \"{}\"", op_name));
    scmp_arg_cmp cmp{};
    cmp.arg = static_cast<unsigned>(index);
    cmp.op = op->second;
    cmp.datum_a = a.value("value", std::uint64_t{0});
    cmp.datum_b = a.value("valueTwo", std::uint64_t{0});
    out.push_back(cmp);
  }
  return out;
}

std::string profile_cache_key(const Json& profile) {
  const auto* version = seccomp_version();
  Hasher hasher;
  hasher.update(profile.dump());
  hasher.update(fmt::format("\nlibseccomp {}.{}.{} {}", version->major, version->minor, version->micro, host_architecture()));
  return hasher.digest().hex();
}

std::vector<sock_filter> export_program(scmp_filter_ctx ctx) {
  UniqueFd memfd(::memfd_create("skiff-seccomp", MFD_CLOEXEC));
  if (!memfd) fail_errno("seccomp: memfd_create");
  int rc = seccomp_export_bpf(ctx, memfd.get());
  if (rc < 0) fail_errno(-rc, "seccomp: export the compiled filter");
  off_t size = ::lseek(memfd.get(), 0, SEEK_END);
  if (size < 0 || size % static_cast<off_t>(sizeof(sock_filter)) != 0)
    fail(ErrorKind::internal, "seccomp: libseccomp produced a filter of {} bytes", size);
  std::vector<sock_filter> filter(static_cast<size_t>(size) / sizeof(sock_filter));
  if (::pread(memfd.get(), filter.data(), static_cast<size_t>(size), 0) != size) fail_errno("seccomp: read the compiled filter");
  return filter;
}

}  // namespace

void validate_seccomp(const Json& profile) {
  action_value(profile, "defaultAction", "defaultErrnoRet", ".defaultAction", EPERM);
  if (auto it = profile.find("architectures"); it != profile.end() && !it->is_null()) {
    if (!it->is_array()) bad(".architectures", "expected an array");
    for (const auto& a : *it) {
      if (!a.is_string()) bad(".architectures", "expected an array of strings");
      resolve_arch(a.get<std::string>());
    }
  }
  if (auto it = profile.find("flags"); it != profile.end() && !it->is_null()) {
    if (!it->is_array()) bad(".flags", "expected an array");
    for (const auto& f : *it) {
      if (!f.is_string()) bad(".flags", "expected an array of strings");
      auto name = f.get<std::string>();
      bool known = std::any_of(std::begin(filter_flags), std::end(filter_flags), [&](const auto& k) { return name == k.name; });
      if (!known && name != "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV") bad(".flags", fmt::format("unknown flag \"{}\"", name));
    }
  }
  if (auto it = profile.find("listenerPath"); it != profile.end() && it->is_string() && !it->get<std::string>().empty())
    fail(ErrorKind::unsupported, "config.json: linux.seccomp.listenerPath: seccomp user notification is not supported");
  if (auto it = profile.find("syscalls"); it != profile.end() && !it->is_null()) {
    if (!it->is_array()) bad(".syscalls", "expected an array");
    for (const auto& rule : *it) {
      if (!rule.is_object()) bad(".syscalls", "expected rule objects");
      action_value(rule, "action", "errnoRet", ".syscalls.action", EPERM);
      auto names = rule.find("names");
      if (names == rule.end() || !names->is_array() || names->empty()) bad(".syscalls.names", "every rule needs a list of syscall names");
      for (const auto& n : *names)
        if (!n.is_string()) bad(".syscalls.names", "expected strings");
      if (auto args = rule.find("args"); args != rule.end() && !args->is_null()) {
        if (!args->is_array()) bad(".syscalls.args", "expected an array");
        parse_args(*args, ".syscalls.args");
      }
    }
  }
}

SeccompProgram compile_seccomp(const Json& profile, const fs::path& cache_dir) {
  SeccompProgram program;
  if (auto it = profile.find("flags"); it != profile.end() && it->is_array()) {
    for (const auto& f : *it) {
      for (const auto& known : filter_flags)
        if (f == known.name) program.flags |= known.value;
    }
  }

  std::string key;
  if (!cache_dir.empty()) {
    key = profile_cache_key(profile);
    if (auto cached = read_file_if_exists(cache_dir / (key + ".bpf"));
        cached && !cached->empty() && cached->size() % sizeof(sock_filter) == 0) {
      program.filter.resize(cached->size() / sizeof(sock_filter));
      std::memcpy(program.filter.data(), cached->data(), cached->size());
      return program;
    }
  }

  std::uint32_t default_action = action_value(profile, "defaultAction", "defaultErrnoRet", ".defaultAction", EPERM);
  FilterContext filter(default_action);
  if (auto it = profile.find("architectures"); it != profile.end() && it->is_array()) {
    for (const auto& a : *it) {
      std::uint32_t arch = resolve_arch(a.get<std::string>());
      int rc = seccomp_arch_add(filter.ctx, arch);
      if (rc < 0 && rc != -EEXIST) fail_errno(-rc, "seccomp: add architecture " + a.get<std::string>());
    }
  }
  if (auto it = profile.find("syscalls"); it != profile.end() && it->is_array()) {
    for (const auto& rule : *it) {
      std::uint32_t action = action_value(rule, "action", "errnoRet", ".syscalls.action", EPERM);
      std::vector<scmp_arg_cmp> args;
      if (auto a = rule.find("args"); a != rule.end() && a->is_array()) args = parse_args(*a, ".syscalls.args");
      // libseccomp cannot compare one argument twice in a rule; like runc,
      // comparisons of the same argument become alternative rules.
      std::set<unsigned> indices;
      for (const auto& c : args) indices.insert(c.arg);
      bool alternatives = indices.size() != args.size();
      for (const auto& n : rule["names"]) {
        auto name = n.get<std::string>();
        int nr = seccomp_syscall_resolve_name(name.c_str());
        if (nr == __NR_SCMP_ERROR) {
          log::debug("seccomp: syscall {} is unknown on this architecture; rule skipped", name);
          continue;
        }
        if (action == default_action) continue;
        auto add = [&](const scmp_arg_cmp* cmps, unsigned count) {
          int rc = seccomp_rule_add_array(filter.ctx, action, nr, count, cmps);
          if (rc < 0) fail_errno(-rc, fmt::format("seccomp: add the rule for {}", name));
        };
        if (alternatives) {
          for (const auto& c : args) add(&c, 1);
        } else {
          add(args.data(), static_cast<unsigned>(args.size()));
        }
      }
    }
  }
  program.filter = export_program(filter.ctx);
  if (!key.empty()) {
    try {
      ensure_dir(cache_dir, 0700);
      write_file_atomic(cache_dir / (key + ".bpf"),
                        std::string_view(reinterpret_cast<const char*>(program.filter.data()),
                                         program.filter.size() * sizeof(sock_filter)),
                        0600, false);
    } catch (const Error& e) {
      log::debug("seccomp: could not cache the compiled filter: {}", e.what());
    }
  }
  return program;
}

int load_seccomp(const SeccompProgram& program) {
  if (program.filter.empty()) return 0;
  sock_fprog prog{};
  prog.len = static_cast<unsigned short>(program.filter.size());
  prog.filter = const_cast<sock_filter*>(program.filter.data());
  if (::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, program.flags, &prog) != 0) return errno;
  return 0;
}

namespace {

// Always allowed: what an ordinary program needs and nothing that changes
// the system beyond the container (docker's allow-list, same spirit).
constexpr const char* allowed_syscalls[] = {
    "accept", "accept4", "access", "adjtimex", "alarm", "bind", "brk", "cachestat", "capget", "capset", "chdir",
    "chmod", "chown", "chown32", "clock_adjtime", "clock_adjtime64", "clock_getres", "clock_getres_time64",
    "clock_gettime", "clock_gettime64", "clock_nanosleep", "clock_nanosleep_time64", "close", "close_range",
    "connect", "copy_file_range", "creat", "dup", "dup2", "dup3", "epoll_create", "epoll_create1", "epoll_ctl",
    "epoll_ctl_old", "epoll_pwait", "epoll_pwait2", "epoll_wait", "epoll_wait_old", "eventfd", "eventfd2",
    "execve", "execveat", "exit", "exit_group", "faccessat", "faccessat2", "fadvise64", "fadvise64_64",
    "fallocate", "fanotify_mark", "fchdir", "fchmod", "fchmodat", "fchmodat2", "fchown", "fchown32", "fchownat",
    "fcntl", "fcntl64", "fdatasync", "fgetxattr", "flistxattr", "flock", "fork", "fremovexattr", "fsetxattr",
    "fstat", "fstat64", "fstatat64", "fstatfs", "fstatfs64", "fsync", "ftruncate", "ftruncate64", "futex",
    "futex_requeue", "futex_time64", "futex_wait", "futex_waitv", "futex_wake", "futimesat", "getcpu", "getcwd",
    "getdents", "getdents64", "getegid", "getegid32", "geteuid", "geteuid32", "getgid", "getgid32", "getgroups",
    "getgroups32", "getitimer", "getpeername", "getpgid", "getpgrp", "getpid", "getppid", "getpriority",
    "getrandom", "getresgid", "getresgid32", "getresuid", "getresuid32", "getrlimit", "get_robust_list",
    "getrusage", "getsid", "getsockname", "getsockopt", "get_thread_area", "gettid", "gettimeofday", "getuid",
    "getuid32", "getxattr", "inotify_add_watch", "inotify_init", "inotify_init1", "inotify_rm_watch",
    "io_cancel", "ioctl", "io_destroy", "io_getevents", "io_pgetevents", "io_pgetevents_time64", "ioprio_get",
    "ioprio_set", "io_setup", "io_submit", "io_uring_enter", "io_uring_register", "io_uring_setup", "ipc",
    "kill", "landlock_add_rule", "landlock_create_ruleset", "landlock_restrict_self", "lchown", "lchown32",
    "lgetxattr", "link", "linkat", "listen", "listxattr", "llistxattr", "_llseek", "lremovexattr", "lseek",
    "lsetxattr", "lstat", "lstat64", "madvise", "map_shadow_stack", "membarrier", "memfd_create",
    "memfd_secret", "mincore", "mkdir", "mkdirat", "mknod", "mknodat", "mlock", "mlock2", "mlockall", "mmap",
    "mmap2", "mprotect", "mq_getsetattr", "mq_notify", "mq_open", "mq_timedreceive", "mq_timedreceive_time64",
    "mq_timedsend", "mq_timedsend_time64", "mq_unlink", "mremap", "msgctl", "msgget", "msgrcv", "msgsnd",
    "msync", "munlock", "munlockall", "munmap", "name_to_handle_at", "nanosleep", "newfstatat", "_newselect",
    "open", "openat", "openat2", "pause", "pidfd_open", "pidfd_send_signal", "pipe", "pipe2", "pkey_alloc",
    "pkey_free", "pkey_mprotect", "poll", "ppoll", "ppoll_time64", "prctl", "pread64", "preadv", "preadv2",
    "prlimit64", "process_mrelease", "pselect6", "pselect6_time64", "pwrite64", "pwritev", "pwritev2", "read",
    "readahead", "readlink", "readlinkat", "readv", "recv", "recvfrom", "recvmmsg", "recvmmsg_time64",
    "recvmsg", "remap_file_pages", "removexattr", "rename", "renameat", "renameat2", "restart_syscall", "rmdir",
    "rseq", "rt_sigaction", "rt_sigpending", "rt_sigprocmask", "rt_sigqueueinfo", "rt_sigreturn",
    "rt_sigsuspend", "rt_sigtimedwait", "rt_sigtimedwait_time64", "rt_tgsigqueueinfo", "sched_getaffinity",
    "sched_getattr", "sched_getparam", "sched_get_priority_max", "sched_get_priority_min", "sched_getscheduler",
    "sched_rr_get_interval", "sched_rr_get_interval_time64", "sched_setaffinity", "sched_setattr",
    "sched_setparam", "sched_setscheduler", "sched_yield", "seccomp", "select", "semctl", "semget", "semop",
    "semtimedop", "semtimedop_time64", "send", "sendfile", "sendfile64", "sendmmsg", "sendmsg", "sendto",
    "setfsgid", "setfsgid32", "setfsuid", "setfsuid32", "setgid", "setgid32", "setgroups", "setgroups32",
    "setitimer", "setpgid", "setpriority", "setregid", "setregid32", "setresgid", "setresgid32", "setresuid",
    "setresuid32", "setreuid", "setreuid32", "setrlimit", "set_robust_list", "setsid", "setsockopt",
    "set_thread_area", "set_tid_address", "setuid", "setuid32", "setxattr", "shmat", "shmctl", "shmdt",
    "shmget", "shutdown", "sigaltstack", "signalfd", "signalfd4", "sigprocmask", "sigreturn", "socketcall",
    "socketpair", "splice", "stat", "stat64", "statfs", "statfs64", "statx", "symlink", "symlinkat", "sync",
    "sync_file_range", "syncfs", "sysinfo", "tee", "tgkill", "time", "timer_create", "timer_delete",
    "timer_getoverrun", "timer_gettime", "timer_gettime64", "timer_settime", "timer_settime64",
    "timerfd_create", "timerfd_gettime", "timerfd_gettime64", "timerfd_settime", "timerfd_settime64", "times",
    "tkill", "truncate", "truncate64", "ugetrlimit", "umask", "uname", "unlink", "unlinkat", "utime",
    "utimensat", "utimensat_time64", "utimes", "vfork", "vmsplice", "wait4", "waitid", "waitpid", "write",
    "writev",
    // ptrace is contained by the pid namespace on kernels >= 4.8.
    "ptrace", "process_vm_readv", "process_vm_writev",
};

// Allowed only when the container holds the capability.
struct CapabilityRule {
  const char* capability;
  std::vector<const char*> syscalls;
};

const std::vector<CapabilityRule>& capability_rules() {
  static const std::vector<CapabilityRule> rules = {
      {"CAP_DAC_READ_SEARCH", {"open_by_handle_at"}},
      {"CAP_SYS_ADMIN",
       {"bpf", "clone", "clone3", "fanotify_init", "fsconfig", "fsmount", "fsopen", "fspick", "lookup_dcookie",
        "mount", "mount_setattr", "move_mount", "open_tree", "perf_event_open", "quotactl", "quotactl_fd",
        "setdomainname", "sethostname", "setns", "syslog", "umount", "umount2", "unshare"}},
      {"CAP_SYS_BOOT", {"reboot"}},
      {"CAP_SYS_CHROOT", {"chroot"}},
      {"CAP_SYS_MODULE", {"delete_module", "init_module", "finit_module"}},
      {"CAP_SYS_PACCT", {"acct"}},
      {"CAP_SYS_PTRACE", {"kcmp", "pidfd_getfd", "process_madvise"}},
      {"CAP_SYS_RAWIO", {"iopl", "ioperm"}},
      {"CAP_SYS_TIME", {"settimeofday", "stime", "clock_settime", "clock_settime64"}},
      {"CAP_SYS_TTY_CONFIG", {"vhangup"}},
      {"CAP_SYS_NICE", {"get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node"}},
      {"CAP_SYSLOG", {"syslog"}},
      {"CAP_BPF", {"bpf"}},
      {"CAP_PERFMON", {"perf_event_open"}},
  };
  return rules;
}

Json native_architectures() {
  auto arch = host_architecture();
  if (arch == "amd64") return {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"};
  if (arch == "arm64") return {"SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"};
  if (arch == "s390x") return {"SCMP_ARCH_S390X", "SCMP_ARCH_S390"};
  if (arch == "ppc64le") return {"SCMP_ARCH_PPC64LE"};
  if (arch == "riscv64") return {"SCMP_ARCH_RISCV64"};
  return Json::array();
}

}  // namespace

Json default_seccomp_profile(const std::vector<std::string>& capabilities) {
  auto has = [&](std::string_view cap) {
    return std::any_of(capabilities.begin(), capabilities.end(), [&](const std::string& c) {
      return c == cap || (!c.starts_with("CAP_") && "CAP_" + c == cap);
    });
  };
  Json syscalls = Json::array();
  syscalls.push_back({{"names", Json(std::vector<std::string>(std::begin(allowed_syscalls), std::end(allowed_syscalls)))},
                      {"action", "SCMP_ACT_ALLOW"}});
  // Sockets of every family except AF_VSOCK (40), which reaches the host.
  syscalls.push_back({{"names", {"socket"}}, {"action", "SCMP_ACT_ALLOW"},
                      {"args", {{{"index", 0}, {"value", 40}, {"op", "SCMP_CMP_NE"}}}}});
  // personality: only the harmless domains (PER_LINUX, UNAME26, PER_LINUX32, query).
  for (std::uint64_t persona : {0x0ULL, 0x8ULL, 0x20000ULL, 0x20008ULL, 0xffffffffULL})
    syscalls.push_back({{"names", {"personality"}}, {"action", "SCMP_ACT_ALLOW"},
                        {"args", {{{"index", 0}, {"value", persona}, {"op", "SCMP_CMP_EQ"}}}}});
  if (host_architecture() == "amd64") syscalls.push_back({{"names", {"arch_prctl", "modify_ldt"}}, {"action", "SCMP_ACT_ALLOW"}});
  for (const auto& rule : capability_rules()) {
    if (!has(rule.capability)) continue;
    syscalls.push_back({{"names", Json(std::vector<std::string>(rule.syscalls.begin(), rule.syscalls.end()))},
                        {"action", "SCMP_ACT_ALLOW"}});
  }
  if (!has("CAP_SYS_ADMIN")) {
    // clone without namespace flags (CLONE_NEWNS|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET|NEWCGROUP).
    syscalls.push_back({{"names", {"clone"}}, {"action", "SCMP_ACT_ALLOW"},
                        {"args", {{{"index", 0}, {"value", 0x7E020000}, {"valueTwo", 0}, {"op", "SCMP_CMP_MASKED_EQ"}}}}});
    // clone3 hides its flags in memory seccomp cannot read: ENOSYS makes
    // libc fall back to clone, which the rule above checks.
    syscalls.push_back({{"names", {"clone3"}}, {"action", "SCMP_ACT_ERRNO"}, {"errnoRet", ENOSYS}});
  }
  return {{"defaultAction", "SCMP_ACT_ERRNO"},
          {"defaultErrnoRet", EPERM},
          {"architectures", native_architectures()},
          {"syscalls", syscalls}};
}

std::vector<std::string> seccomp_actions() {
  std::vector<std::string> out;
  for (const auto& a : actions) out.push_back(a.name);
  return out;
}

std::vector<std::string> seccomp_operators() {
  std::vector<std::string> out;
  for (const auto& o : operators) out.push_back(o.first);
  return out;
}

std::vector<std::string> seccomp_architectures() { return {std::begin(architectures), std::end(architectures)}; }

}  // namespace skiff::runtime
