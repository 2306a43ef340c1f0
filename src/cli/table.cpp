#include "cli/table.h"

#include <algorithm>

#include <fmt/format.h>

#include "core/error.h"

namespace skiff::cli {

void Table::print(std::FILE* out) const {
  std::vector<size_t> widths(header_.size());
  auto measure = [&](const std::vector<std::string>& row) {
    for (size_t i = 0; i < row.size() && i < widths.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  };
  measure(header_);
  for (const auto& row : rows_) measure(row);
  auto print_row = [&](const std::vector<std::string>& row) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(widths[i] - row[i].size() + 3, ' ');
    }
    fmt::print(out, "{}\n", line);
  };
  print_row(header_);
  for (const auto& row : rows_) print_row(row);
}

bool wants_json(const std::string& format) {
  if (format.empty() || format == "table") return false;
  if (format == "json") return true;
  fail(ErrorKind::invalid_argument, "unknown --format \"{}\": use table or json", format);
}

}  // namespace skiff::cli
