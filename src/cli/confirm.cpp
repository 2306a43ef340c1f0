#include "cli/confirm.h"

#include <unistd.h>

#include <cstdio>
#include <iostream>

#include <fmt/format.h>

namespace skiff::cli {

bool confirmed(const std::string& question) {
  if (!::isatty(STDIN_FILENO)) return true;  // scripts pass -f or pipe; docker asks only a terminal
  fmt::print("{} [y/N] ", question);
  std::fflush(stdout);
  std::string answer;
  std::getline(std::cin, answer);
  return answer == "y" || answer == "Y" || answer == "yes";
}

}  // namespace skiff::cli
