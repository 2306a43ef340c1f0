// Small value grammars inside instructions: RUN --mount specs and Go
// durations (HEALTHCHECK flags).
#include <algorithm>
#include <cctype>
#include <cmath>

#include "builder/dockerfile.h"
#include "builder/syntax.h"
#include "core/error.h"

namespace skiff::builder {

namespace {

// One CSV record (encoding/csv rules, which BuildKit uses for --mount):
// comma-separated fields; a field may be double-quoted, with "" for a quote.
std::vector<std::string> csv_fields(std::string_view text) {
  std::vector<std::string> fields;
  size_t i = 0;
  for (;;) {
    std::string field;
    if (i < text.size() && text[i] == '"') {
      ++i;
      for (;;) {
        if (i >= text.size()) fail(ErrorKind::invalid_argument, "failed to parse csv mounts: extraneous or missing \" in quoted-field");
        if (text[i] == '"') {
          if (i + 1 < text.size() && text[i + 1] == '"') {
            field += '"';
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        field += text[i++];
      }
      if (i < text.size() && text[i] != ',') {
        fail(ErrorKind::invalid_argument, "failed to parse csv mounts: extraneous or missing \" in quoted-field");
      }
    } else {
      while (i < text.size() && text[i] != ',') {
        if (text[i] == '"') fail(ErrorKind::invalid_argument, "failed to parse csv mounts: bare \" in non-quoted-field");
        field += text[i++];
      }
    }
    fields.push_back(std::move(field));
    if (i >= text.size()) break;
    ++i;  // ','
  }
  return fields;
}

bool parse_bool(std::string_view key, std::string_view value) {
  // strconv.ParseBool
  if (value == "1" || value == "t" || value == "T" || value == "true" || value == "TRUE" || value == "True") return true;
  if (value == "0" || value == "f" || value == "F" || value == "false" || value == "FALSE" || value == "False") return false;
  fail(ErrorKind::invalid_argument, "invalid value for {}: {}", key, value);
}

std::uint32_t parse_uint(std::string_view key, std::string_view value, int base) {
  if (value.empty() || value.size() > 12) fail(ErrorKind::invalid_argument, "invalid value {} for {}", value, key);
  std::uint64_t n = 0;
  for (char c : value) {
    int digit = c - '0';
    if (digit < 0 || digit >= base) fail(ErrorKind::invalid_argument, "invalid value {} for {}", value, key);
    n = n * base + digit;
  }
  if (n > UINT32_MAX) fail(ErrorKind::invalid_argument, "invalid value {} for {}", value, key);
  return static_cast<std::uint32_t>(n);
}

// docker/go-units RAMInBytes: "64m", "1.5g", "1024", "2GiB" (binary units).
std::int64_t parse_ram_size(std::string_view key, std::string_view text) {
  size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
  std::string number(text.substr(0, i));
  std::string_view suffix = text.substr(i);
  if (!suffix.empty() && suffix[0] == ' ') suffix.remove_prefix(1);
  if (number.empty() || number.front() == '.' || number.back() == '.') {
    fail(ErrorKind::invalid_argument, "invalid value for {}: {}", key, text);
  }
  double value = std::strtod(number.c_str(), nullptr);
  double unit = 1;
  if (!suffix.empty()) {
    switch (std::tolower(static_cast<unsigned char>(suffix[0]))) {
      case 'k': unit = 1024.0; break;
      case 'm': unit = 1024.0 * 1024; break;
      case 'g': unit = 1024.0 * 1024 * 1024; break;
      case 't': unit = 1024.0 * 1024 * 1024 * 1024; break;
      case 'p': unit = 1024.0 * 1024 * 1024 * 1024 * 1024; break;
      case 'b': break;
      default: fail(ErrorKind::invalid_argument, "invalid value for {}: {}", key, text);
    }
    if (std::tolower(static_cast<unsigned char>(suffix[0])) != 'b') suffix.remove_prefix(1);
    if (!suffix.empty() && (suffix[0] == 'i' || suffix[0] == 'I')) suffix.remove_prefix(1);
    if (!suffix.empty() && (suffix[0] == 'b' || suffix[0] == 'B')) suffix.remove_prefix(1);
    if (!suffix.empty()) fail(ErrorKind::invalid_argument, "invalid value for {}: {}", key, text);
  }
  double bytes = value * unit;
  if (!(bytes < 9.2e18)) fail(ErrorKind::invalid_argument, "invalid value for {}: {}", key, text);
  return static_cast<std::int64_t>(bytes);
}

}  // namespace

const char* mount_type_name(RunMount::Type type) {
  switch (type) {
    case RunMount::Type::bind: return "bind";
    case RunMount::Type::cache: return "cache";
    case RunMount::Type::tmpfs: return "tmpfs";
    case RunMount::Type::secret: return "secret";
    case RunMount::Type::ssh: return "ssh";
  }
  return "?";
}

std::string mount_from(std::string_view spec) {
  std::string from;
  for (const auto& field : csv_fields(spec)) {
    auto eq = field.find('=');
    if (eq == std::string::npos || syntax::ascii_lower(field.substr(0, eq)) != "from") continue;
    from = field.substr(eq + 1);
    auto dollar = from.find('$');
    if (dollar != std::string::npos && dollar + 1 != from.size()) {
      fail(ErrorKind::invalid_argument, "'from' doesn't support variable expansion, define alias stage instead");
    }
  }
  return from;
}

RunMount parse_mount(std::string_view spec, const std::function<std::string(std::string_view)>& expand_value) {
  RunMount mount;
  mount_from(spec);
  bool read_only_given = false;
  for (const auto& field : csv_fields(spec)) {
    auto eq = field.find('=');
    std::string key = syntax::ascii_lower(field.substr(0, eq));
    if (eq == std::string::npos) {
      if (key == "readonly" || key == "ro") {
        mount.read_only = true;
        read_only_given = true;
      } else if (key == "readwrite" || key == "rw") {
        mount.read_only = false;
        read_only_given = true;
      } else if (key == "required" && (mount.type == RunMount::Type::secret || mount.type == RunMount::Type::ssh)) {
        mount.required = true;
      } else if (key == "required") {
        fail(ErrorKind::invalid_argument, "unexpected key 'required' for mount type '{}'", mount_type_name(mount.type));
      } else {
        fail(ErrorKind::invalid_argument, "invalid field '{}' must be a key=value pair", field);
      }
      continue;
    }
    std::string value = field.substr(eq + 1);
    if (expand_value && key != "from") value = expand_value(value);
    if (key == "type") {
      std::string type = syntax::ascii_lower(value);
      if (type == "bind") mount.type = RunMount::Type::bind;
      else if (type == "cache") mount.type = RunMount::Type::cache;
      else if (type == "tmpfs") mount.type = RunMount::Type::tmpfs;
      else if (type == "secret") mount.type = RunMount::Type::secret;
      else if (type == "ssh") mount.type = RunMount::Type::ssh;
      else {
        std::string hint = closest_match(type, {"bind", "cache", "tmpfs", "secret", "ssh"});
        fail(ErrorKind::invalid_argument, "unsupported mount type \"{}\"{}", value,
             hint.empty() ? std::string() : " (did you mean " + hint + "?)");
      }
    } else if (key == "from") {
      mount.from = value;
    } else if (key == "source" || key == "src") {
      mount.source = value;
    } else if (key == "target" || key == "dst" || key == "destination") {
      mount.target = value;
    } else if (key == "readonly" || key == "ro") {
      mount.read_only = parse_bool(key, value);
      read_only_given = true;
    } else if (key == "readwrite" || key == "rw") {
      mount.read_only = !parse_bool(key, value);
      read_only_given = true;
    } else if (key == "required") {
      if (mount.type != RunMount::Type::secret && mount.type != RunMount::Type::ssh) {
        fail(ErrorKind::invalid_argument, "unexpected key 'required' for mount type '{}'", mount_type_name(mount.type));
      }
      mount.required = parse_bool(key, value);
    } else if (key == "size") {
      if (mount.type != RunMount::Type::tmpfs) {
        fail(ErrorKind::invalid_argument, "unexpected key 'size' for mount type '{}'", mount_type_name(mount.type));
      }
      mount.size_limit = parse_ram_size(key, value);
    } else if (key == "id") {
      mount.id = value;
    } else if (key == "sharing") {
      std::string sharing = syntax::ascii_lower(value);
      if (sharing != "shared" && sharing != "private" && sharing != "locked") {
        fail(ErrorKind::invalid_argument, "unsupported sharing value \"{}\" (use shared, private or locked)", value);
      }
      mount.sharing = sharing;
    } else if (key == "mode") {
      mount.mode = parse_uint("mode", value, 8);
    } else if (key == "uid") {
      mount.uid = parse_uint("uid", value, 10);
    } else if (key == "gid") {
      mount.gid = parse_uint("gid", value, 10);
    } else if (key == "env") {
      mount.env = value;
    } else {
      std::string hint = closest_match(key, {"type", "from", "source", "target", "readonly", "id", "sharing", "required",
                                             "size", "mode", "uid", "gid", "src", "dst", "destination", "ro", "rw",
                                             "readwrite", "env"});
      fail(ErrorKind::invalid_argument, "unexpected key '{}' in '{}'{}", key, field,
           hint.empty() ? std::string() : " (did you mean " + hint + "?)");
    }
  }
  bool file_info_allowed = mount.type == RunMount::Type::secret || mount.type == RunMount::Type::ssh ||
                           mount.type == RunMount::Type::cache;
  if (!file_info_allowed) {
    const char* type = mount_type_name(mount.type);
    if (mount.mode) fail(ErrorKind::invalid_argument, "mode not allowed for \"{}\" type mounts", type);
    if (mount.uid) fail(ErrorKind::invalid_argument, "uid not allowed for \"{}\" type mounts", type);
    if (mount.gid) fail(ErrorKind::invalid_argument, "gid not allowed for \"{}\" type mounts", type);
  }
  if (!read_only_given) {
    mount.read_only = !(mount.type == RunMount::Type::cache || mount.type == RunMount::Type::tmpfs);
  }
  if (mount.type == RunMount::Type::secret) {
    if (!mount.from.empty()) fail(ErrorKind::invalid_argument, "secret mount should not have a from");
    if (!mount.sharing.empty()) fail(ErrorKind::invalid_argument, "secret mount should not define sharing");
    if (mount.source.empty() && mount.target.empty() && mount.id.empty()) {
      fail(ErrorKind::invalid_argument, "invalid secret mount. one of source, target required");
    }
    if (!mount.source.empty() && !mount.id.empty()) fail(ErrorKind::invalid_argument, "both source and id can't be set");
  }
  if (!mount.sharing.empty() && mount.type != RunMount::Type::cache) {
    fail(ErrorKind::invalid_argument, "invalid cache sharing set for {} mount", mount_type_name(mount.type));
  }
  if (mount.target.empty() && mount.type != RunMount::Type::secret && mount.type != RunMount::Type::ssh) {
    fail(ErrorKind::invalid_argument, "{} mount needs a target (target=/path)", mount_type_name(mount.type));
  }
  return mount;
}

std::int64_t parse_duration(std::string_view text) {
  // time.ParseDuration: [-+]?([0-9]*(\.[0-9]*)?[a-z]+)+, or "0".
  std::string_view original = text;
  auto bad = [&]() -> std::int64_t {
    fail(ErrorKind::invalid_argument, "time: invalid duration \"{}\"", original);
  };
  bool negative = false;
  if (!text.empty() && (text[0] == '-' || text[0] == '+')) {
    negative = text[0] == '-';
    text.remove_prefix(1);
  }
  if (text == "0") return 0;
  if (text.empty()) return bad();
  long double total = 0;
  while (!text.empty()) {
    size_t i = 0;
    while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
    std::string number(text.substr(0, i));
    if (number.empty() || number == "." || std::count(number.begin(), number.end(), '.') > 1) return bad();
    text.remove_prefix(i);
    size_t u = 0;
    while (u < text.size() && !std::isdigit(static_cast<unsigned char>(text[u])) && text[u] != '.') ++u;
    std::string_view unit = text.substr(0, u);
    text.remove_prefix(u);
    long double scale;
    if (unit == "ns") scale = 1;
    else if (unit == "us" || unit == "\xC2\xB5s" || unit == "\xCE\xBCs") scale = 1e3;
    else if (unit == "ms") scale = 1e6;
    else if (unit == "s") scale = 1e9;
    else if (unit == "m") scale = 60e9;
    else if (unit == "h") scale = 3600e9;
    else if (unit.empty()) fail(ErrorKind::invalid_argument, "time: missing unit in duration \"{}\"", original);
    else fail(ErrorKind::invalid_argument, "time: unknown unit \"{}\" in duration \"{}\"", unit, original);
    total += std::strtold(number.c_str(), nullptr) * scale;
    if (total > 9.2e18L) fail(ErrorKind::invalid_argument, "time: invalid duration \"{}\"", original);
  }
  auto ns = static_cast<std::int64_t>(std::llround(static_cast<double>(total)));
  return negative ? -ns : ns;
}

}  // namespace skiff::builder
