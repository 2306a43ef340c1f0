// Namespaces: which ones a container creates, which it joins by path, and
// the runtime-side helpers for joining (exec) and for user-namespace maps.
#pragma once

#include <sys/types.h>

#include <string>
#include <utility>
#include <vector>

#include "core/fd.h"
#include "runtime/spec.h"

namespace skiff::runtime {

// CLONE_NEW* flags for the namespaces the spec asks to create (not those
// given by path). The cgroup namespace is left out: the child unshares it
// once it sits in its cgroup, so that cgroup becomes the namespace's root.
int namespaces_to_create(const LinuxSpec& linux);

// Opens a namespace file, checking it is a namespace of the given type.
UniqueFd open_namespace(const std::string& path, NamespaceType type);

// The namespaces of a running process, in the order setns needs them (user
// first, mount last), skipping those it shares with the caller.
std::vector<std::pair<int, UniqueFd>> namespaces_of(pid_t pid);

// While alive, children the calling thread creates are born in the pid
// namespace `pid_namespace` (setns on pid_for_children); restores after.
class PidNamespaceForChildren {
 public:
  explicit PidNamespaceForChildren(int pid_namespace);
  ~PidNamespaceForChildren();
  PidNamespaceForChildren(const PidNamespaceForChildren&) = delete;
  PidNamespaceForChildren& operator=(const PidNamespaceForChildren&) = delete;

 private:
  UniqueFd saved_;
};

// Writes /proc/<pid>/{uid_map,gid_map} for a child in a new user namespace.
void write_id_maps(pid_t pid, const std::vector<IdMapping>& uid_mappings, const std::vector<IdMapping>& gid_mappings);

}  // namespace skiff::runtime
