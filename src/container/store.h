// Container records in the metadata database. Names are unique; a record
// is found by full ID, unique ID prefix, or name.
#pragma once

#include <string>
#include <vector>

#include "container/record.h"
#include "core/root.h"

namespace skiff::container {

class Store {
 public:
  explicit Store(Root& root);

  // Fills id and name (when empty) and inserts; conflict if the name is taken.
  void add(Record& record);
  // Throws not_found with the text the user gave when nothing matches, and
  // invalid_argument when an ID prefix is ambiguous.
  Record get(const std::string& id_prefix_or_name);
  std::optional<Record> find(const std::string& id_prefix_or_name);
  std::vector<Record> list();
  void update(const Record& record);
  // Records the init's pid unless the container has already exited.
  void set_pid_if_running(const std::string& id, std::int64_t pid);
  void remove(const std::string& id);

  // A docker-style name ("brave_hopper") not yet in use.
  std::string unique_name();
  static bool valid_name(std::string_view name);

 private:
  Root& root_;
};

std::string random_id();

}  // namespace skiff::container
