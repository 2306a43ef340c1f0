// JSON is nlohmann::json throughout. Its object keys are sorted, so a value
// serialises the same way every time: image configs and manifests that skiff
// writes are deterministic.
#pragma once

#include <nlohmann/json.hpp>

#include <string_view>

namespace skiff {

using Json = nlohmann::json;

// Parses `text`, naming `what` ("manifest sha256:…") in the error.
Json parse_json(std::string_view text, std::string_view what);

}  // namespace skiff
