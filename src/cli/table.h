// Column-aligned output as docker prints its lists (three spaces between
// columns, header in capitals), and JSON lines for --format json.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

namespace skiff::cli {

class Table {
 public:
  explicit Table(std::vector<std::string> header) : header_(std::move(header)) {}
  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  void print(std::FILE* out = stdout) const;

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

// Validates --format: "", "table" or "json"; throws invalid_argument otherwise.
bool wants_json(const std::string& format);

}  // namespace skiff::cli
