#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace skiff {

std::vector<std::string> split(std::string_view text, char separator);
std::string join(const std::vector<std::string>& parts, std::string_view separator);
std::string_view trim(std::string_view text);

}  // namespace skiff
