// Sizes and times as docker prints and accepts them.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace skiff {

// Decimal units with three significant digits: "5.24MB", "110MB", "1.2GB".
std::string human_size(std::uint64_t bytes);
// "Less than a second ago", "About a minute ago", "3 hours ago", "2 weeks ago".
std::string time_ago(std::chrono::system_clock::time_point when,
                     std::chrono::system_clock::time_point now = std::chrono::system_clock::now());
// "Up 3 minutes", "Exited (0) 2 hours ago" use this duration text.
std::string human_duration(std::chrono::seconds duration);
// Binary units as `--memory` takes them: "64m", "1g", "512k", "1024b", "100".
// Throws invalid_argument naming the text.
std::uint64_t parse_size(std::string_view text);

// RFC 3339 with nanoseconds in UTC ("2026-11-28T03:14:02.123456789Z").
std::string format_rfc3339(std::chrono::system_clock::time_point when);
// Accepts RFC 3339 with or without fraction and with Z or +hh:mm.
std::chrono::system_clock::time_point parse_rfc3339(std::string_view text);

}  // namespace skiff
