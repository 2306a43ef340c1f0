#include "core/json.h"

#include "core/error.h"

namespace skiff {

Json parse_json(std::string_view text, std::string_view what) {
  try {
    return Json::parse(text);
  } catch (const Json::parse_error& e) {
    fail(ErrorKind::corrupt, "{} is not valid JSON (byte {})", what, e.byte);
  }
}

}  // namespace skiff
