#include "core/humanize.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <ctime>

#include <fmt/format.h>

#include "core/error.h"

namespace skiff {

std::string human_size(std::uint64_t bytes) {
  static constexpr const char* units[] = {"B", "kB", "MB", "GB", "TB", "PB"};
  double value = static_cast<double>(bytes);
  int unit = 0;
  while (value >= 1000.0 && unit < 5) {
    value /= 1000.0;
    ++unit;
  }
  // %.3g as docker's HumanSizeWithPrecision(size, 3).
  return fmt::format("{:.3g}{}", value, units[unit]);
}

std::string human_duration(std::chrono::seconds duration) {
  using namespace std::chrono;
  auto s = duration.count();
  if (s < 1) return "Less than a second";
  if (s == 1) return "1 second";
  if (s < 60) return fmt::format("{} seconds", s);
  auto minutes = s / 60;
  if (minutes == 1) return "About a minute";
  if (minutes < 60) return fmt::format("{} minutes", minutes);
  auto hours = (s + 1800) / 3600;  // docker rounds hours
  if (hours == 1) return "About an hour";
  if (hours < 48) return fmt::format("{} hours", hours);
  auto days = s / 86400;
  if (days < 14) return fmt::format("{} days", days);
  if (days < 60) return fmt::format("{} weeks", days / 7);
  if (days < 730) return fmt::format("{} months", days / 30);
  return fmt::format("{} years", days / 365);
}

std::string time_ago(std::chrono::system_clock::time_point when, std::chrono::system_clock::time_point now) {
  auto elapsed = std::chrono::duration_cast<std::chrono::seconds>(now - when);
  if (elapsed.count() < 0) elapsed = std::chrono::seconds(0);
  return human_duration(elapsed) + " ago";
}

std::uint64_t parse_size(std::string_view text) {
  auto invalid = [&] {
    fail(ErrorKind::invalid_argument, "invalid size \"{}\": use a number with an optional unit b, k, m or g (e.g. 64m)", text);
  };
  if (text.empty()) invalid();
  double number = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (ec != std::errc() || number < 0) invalid();
  std::string_view unit(end, static_cast<size_t>(text.data() + text.size() - end));
  std::uint64_t multiplier = 1;
  std::string lower;
  for (char c : unit) lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  if (lower.empty() || lower == "b") multiplier = 1;
  else if (lower == "k" || lower == "kb" || lower == "kib") multiplier = 1ull << 10;
  else if (lower == "m" || lower == "mb" || lower == "mib") multiplier = 1ull << 20;
  else if (lower == "g" || lower == "gb" || lower == "gib") multiplier = 1ull << 30;
  else if (lower == "t" || lower == "tb" || lower == "tib") multiplier = 1ull << 40;
  else invalid();
  return static_cast<std::uint64_t>(std::llround(number * static_cast<double>(multiplier)));
}

std::string format_rfc3339(std::chrono::system_clock::time_point when) {
  using namespace std::chrono;
  auto since_epoch = when.time_since_epoch();
  auto secs = duration_cast<seconds>(since_epoch);
  auto nanos = duration_cast<nanoseconds>(since_epoch - secs).count();
  if (nanos < 0) {
    secs -= seconds(1);
    nanos += 1000000000;
  }
  std::time_t t = secs.count();
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  if (nanos == 0)
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                       tm.tm_hour, tm.tm_min, tm.tm_sec);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:09}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                     tm.tm_hour, tm.tm_min, tm.tm_sec, nanos);
}

std::chrono::system_clock::time_point parse_rfc3339(std::string_view text) {
  auto invalid = [&] { fail(ErrorKind::invalid_argument, "invalid timestamp \"{}\": expected RFC 3339", text); };
  std::tm tm{};
  int fields[6];
  const char* p = text.data();
  const char* end = p + text.size();
  const char separators[] = {'-', '-', 'T', ':', ':', 0};
  for (int i = 0; i < 6; ++i) {
    auto [next, ec] = std::from_chars(p, end, fields[i]);
    if (ec != std::errc()) invalid();
    p = next;
    if (separators[i] != 0) {
      if (p == end || (*p != separators[i] && !(i == 2 && (*p == 't' || *p == ' ')))) invalid();
      ++p;
    }
  }
  long long nanos = 0;
  if (p != end && *p == '.') {
    ++p;
    int digits = 0;
    while (p != end && std::isdigit(static_cast<unsigned char>(*p))) {
      if (digits < 9) nanos = nanos * 10 + (*p - '0');
      ++digits;
      ++p;
    }
    for (; digits < 9; ++digits) nanos *= 10;
  }
  long offset = 0;
  if (p != end && (*p == 'Z' || *p == 'z')) {
    ++p;
  } else if (p != end && (*p == '+' || *p == '-')) {
    int sign = *p == '-' ? -1 : 1;
    int hh = 0, mm = 0;
    ++p;
    auto [n1, e1] = std::from_chars(p, end, hh);
    if (e1 != std::errc() || n1 == end || *n1 != ':') invalid();
    auto [n2, e2] = std::from_chars(n1 + 1, end, mm);
    if (e2 != std::errc()) invalid();
    p = n2;
    offset = sign * (hh * 3600 + mm * 60);
  } else {
    invalid();
  }
  if (p != end) invalid();
  tm.tm_year = fields[0] - 1900;
  tm.tm_mon = fields[1] - 1;
  tm.tm_mday = fields[2];
  tm.tm_hour = fields[3];
  tm.tm_min = fields[4];
  tm.tm_sec = fields[5];
  std::time_t t = ::timegm(&tm) - offset;
  return std::chrono::system_clock::time_point(std::chrono::seconds(t)) +
         std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::nanoseconds(nanos));
}

}  // namespace skiff
