#include "registry/auth.h"

#include <openssl/evp.h>

#include <cctype>

#include "core/error.h"
#include "core/json.h"

namespace skiff::registry {

namespace {

bool is_token_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

void skip_spaces(std::string_view text, size_t& i) {
  while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

std::vector<Challenge> parse_challenges(std::string_view text) {
  std::vector<Challenge> challenges;
  size_t i = 0;
  while (i < text.size()) {
    skip_spaces(text, i);
    while (i < text.size() && text[i] == ',') ++i;
    skip_spaces(text, i);
    size_t start = i;
    while (i < text.size() && is_token_char(text[i])) ++i;
    if (i == start) {
      ++i;  // not a token: skip a character and resynchronise
      continue;
    }
    std::string word = lower(text.substr(start, i - start));
    size_t after_word = i;
    skip_spaces(text, i);
    if (i < text.size() && text[i] == '=' && !challenges.empty()) {
      // name=value of the current challenge
      ++i;
      skip_spaces(text, i);
      std::string value;
      if (i < text.size() && text[i] == '"') {
        ++i;
        while (i < text.size() && text[i] != '"') {
          if (text[i] == '\\' && i + 1 < text.size()) ++i;
          value.push_back(text[i++]);
        }
        if (i < text.size()) ++i;
      } else {
        while (i < text.size() && text[i] != ',' && text[i] != ' ') value.push_back(text[i++]);
      }
      challenges.back().params[word] = value;
      continue;
    }
    // A new scheme.
    i = after_word;
    challenges.push_back(Challenge{word, {}});
  }
  return challenges;
}

std::string repository_scope(std::string_view repository, bool push) {
  return "repository:" + std::string(repository) + (push ? ":pull,push" : ":pull");
}

Token parse_token_response(std::string_view body, std::string_view realm) {
  Json j = parse_json(body, fmt::format("token answer from {}", realm));
  Token token;
  if (j.is_object()) {
    if (j.contains("token") && j["token"].is_string()) token.value = j["token"].get<std::string>();
    else if (j.contains("access_token") && j["access_token"].is_string()) token.value = j["access_token"].get<std::string>();
  }
  if (token.value.empty()) fail(ErrorKind::unauthorized, "token answer from {} carries no token", realm);
  long seconds = 60;
  if (j.contains("expires_in") && j["expires_in"].is_number_integer()) seconds = std::max<long>(j["expires_in"].get<long>(), 1);
  // Renew a little early so a token never expires mid-request.
  token.expires = std::chrono::steady_clock::now() + std::chrono::seconds(std::max<long>(seconds - 5, 1));
  return token;
}

std::string base64_encode(std::string_view data) {
  std::string out(4 * ((data.size() + 2) / 3), '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(data.data()), static_cast<int>(data.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::string base64_decode(std::string_view data) {
  std::string text(data);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  if (text.size() % 4 != 0) fail(ErrorKind::invalid_argument, "invalid base64 (length {})", text.size());
  std::string out(3 * text.size() / 4, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  if (n < 0) fail(ErrorKind::invalid_argument, "invalid base64");
  size_t padding = 0;
  if (!text.empty() && text.back() == '=') ++padding;
  if (text.size() > 1 && text[text.size() - 2] == '=') ++padding;
  out.resize(static_cast<size_t>(n) - padding);
  return out;
}

}  // namespace skiff::registry
