#include "container/user.h"

#include <algorithm>
#include <charconv>
#include <optional>

#include "core/error.h"
#include "core/resolve.h"
#include "core/strings.h"

namespace skiff::container {

namespace {

std::optional<std::uint32_t> parse_id(std::string_view text) {
  std::uint32_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// The colon-separated records of /etc/passwd or /etc/group.
std::vector<std::vector<std::string>> records(const std::optional<std::string>& text) {
  std::vector<std::vector<std::string>> out;
  if (!text) return out;
  for (const auto& line : split(*text, '\n')) {
    if (line.empty() || line.front() == '#') continue;
    out.push_back(split(line, ':'));
  }
  return out;
}

}  // namespace

User resolve_user(int rootfs_fd, std::string_view spec) {
  User user;
  std::string_view user_part = spec;
  std::optional<std::string_view> group_part;
  if (auto colon = spec.find(':'); colon != std::string_view::npos) {
    user_part = spec.substr(0, colon);
    group_part = spec.substr(colon + 1);
  }
  if (user_part.empty()) user_part = "0";
  auto passwd = records(read_file_in_root(rootfs_fd, "/etc/passwd", 16 << 20));
  auto group = records(read_file_in_root(rootfs_fd, "/etc/group", 16 << 20));

  std::string user_name;
  auto numeric_uid = parse_id(user_part);
  bool found = false;
  for (const auto& r : passwd) {
    if (r.size() < 7) continue;
    bool match = numeric_uid ? parse_id(r[2]) == numeric_uid : r[0] == user_part;
    if (!match) continue;
    auto uid = parse_id(r[2]);
    auto gid = parse_id(r[3]);
    if (!uid || !gid) continue;
    user.uid = *uid;
    user.gid = *gid;
    user.home = r[5].empty() ? "/" : r[5];
    user_name = r[0];
    found = true;
    break;
  }
  if (!found) {
    if (!numeric_uid)
      fail(ErrorKind::invalid_argument,
           "unable to find user {}: no matching entries in the image's /etc/passwd; use a numeric UID or add the user",
           user_part);
    user.uid = *numeric_uid;
    user.gid = 0;
  }

  if (group_part) {
    if (group_part->empty()) fail(ErrorKind::invalid_argument, "invalid user \"{}\": empty group after ':'", spec);
    if (auto gid = parse_id(*group_part)) {
      user.gid = *gid;
    } else {
      bool group_found = false;
      for (const auto& r : group) {
        if (r.size() >= 3 && r[0] == *group_part) {
          if (auto g = parse_id(r[2])) {
            user.gid = *g;
            group_found = true;
            break;
          }
        }
      }
      if (!group_found)
        fail(ErrorKind::invalid_argument,
             "unable to find group {}: no matching entries in the image's /etc/group; use a numeric GID", *group_part);
    }
  } else if (!user_name.empty()) {
    // Supplementary groups only when no explicit group was asked for, as docker.
    for (const auto& r : group) {
      if (r.size() < 4) continue;
      auto gid = parse_id(r[2]);
      if (!gid || *gid == user.gid) continue;
      for (const auto& member : split(r[3], ','))
        if (member == user_name && std::find(user.additional_gids.begin(), user.additional_gids.end(), *gid) ==
                                       user.additional_gids.end())
          user.additional_gids.push_back(*gid);
    }
  }
  return user;
}

}  // namespace skiff::container
