// Registry authentication (the distribution spec's token flow): parse the
// WWW-Authenticate challenge of a 401, then either send Basic credentials
// or fetch a bearer token for the scopes a request needs from the realm.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "registry/credentials.h"

namespace skiff::registry {

struct Challenge {
  std::string scheme;                         // "bearer" or "basic" (lower-case)
  std::map<std::string, std::string> params;  // realm, service, scope, error…
  std::string param(const std::string& name) const {
    auto it = params.find(name);
    return it == params.end() ? std::string() : it->second;
  }
};

// Parses one or more challenges ("Bearer realm=\"…\",service=\"…\", Basic
// realm=\"…\""); unknown schemes are kept, malformed parts are skipped.
std::vector<Challenge> parse_challenges(std::string_view header);

// "repository:team/app:pull" or "repository:team/app:pull,push".
std::string repository_scope(std::string_view repository, bool push);

struct Token {
  std::string value;
  std::chrono::steady_clock::time_point expires;
};

// Parses a token endpoint's answer ({"token": …} or {"access_token": …},
// optional "expires_in" seconds, 60 when absent).
Token parse_token_response(std::string_view body, std::string_view realm);

std::string base64_encode(std::string_view data);
std::string base64_decode(std::string_view data);  // throws invalid_argument on bad input

}  // namespace skiff::registry
