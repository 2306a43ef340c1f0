#include "core/digest.h"

#include <openssl/evp.h>

#include "core/error.h"

namespace skiff {

namespace {
size_t hex_length(std::string_view algorithm) {
  if (algorithm == "sha256") return 64;
  if (algorithm == "sha512") return 128;
  return 0;
}

bool lower_hex(std::string_view text) {
  for (char c : text)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}
}  // namespace

bool Digest::valid(std::string_view text) noexcept {
  auto colon = text.find(':');
  if (colon == std::string_view::npos) return false;
  auto algorithm = text.substr(0, colon);
  auto hex = text.substr(colon + 1);
  size_t length = hex_length(algorithm);
  return length != 0 && hex.size() == length && lower_hex(hex);
}

Digest Digest::parse(std::string_view text) {
  auto colon = text.find(':');
  if (colon == std::string_view::npos)
    fail(ErrorKind::invalid_argument, "invalid digest \"{}\": expected ALGORITHM:HEX such as sha256:<64 hex digits>", text);
  auto algorithm = text.substr(0, colon);
  auto hex = text.substr(colon + 1);
  size_t length = hex_length(algorithm);
  if (length == 0)
    fail(ErrorKind::unsupported, "invalid digest \"{}\": unsupported algorithm \"{}\" (use sha256 or sha512)", text, algorithm);
  if (hex.size() != length || !lower_hex(hex))
    fail(ErrorKind::invalid_argument, "invalid digest \"{}\": {} needs {} lowercase hex digits", text, algorithm, length);
  return Digest(std::string(algorithm), std::string(hex));
}

struct Hasher::State {
  EVP_MD_CTX* context = nullptr;
  ~State() { EVP_MD_CTX_free(context); }
};

Hasher::Hasher(std::string_view algorithm) : state_(std::make_unique<State>()), algorithm_(algorithm) {
  const EVP_MD* md = algorithm == "sha256" ? EVP_sha256() : algorithm == "sha512" ? EVP_sha512() : nullptr;
  if (md == nullptr) fail(ErrorKind::unsupported, "unsupported digest algorithm \"{}\"", algorithm);
  state_->context = EVP_MD_CTX_new();
  if (state_->context == nullptr || EVP_DigestInit_ex(state_->context, md, nullptr) != 1)
    fail(ErrorKind::internal, "cannot initialise {} hasher", algorithm);
}

Hasher::Hasher(Hasher&&) noexcept = default;
Hasher& Hasher::operator=(Hasher&&) noexcept = default;
Hasher::~Hasher() = default;

void Hasher::update(const void* data, size_t size) {
  if (EVP_DigestUpdate(state_->context, data, size) != 1)
    fail(ErrorKind::internal, "{} update failed", algorithm_);
}

Digest Hasher::digest() const {
  EVP_MD_CTX* copy = EVP_MD_CTX_new();
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  bool ok = copy != nullptr && EVP_MD_CTX_copy_ex(copy, state_->context) == 1 &&
            EVP_DigestFinal_ex(copy, out, &length) == 1;
  EVP_MD_CTX_free(copy);
  if (!ok) fail(ErrorKind::internal, "{} finalisation failed", algorithm_);
  static constexpr char digits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(length * 2);
  for (unsigned int i = 0; i < length; ++i) {
    hex.push_back(digits[out[i] >> 4]);
    hex.push_back(digits[out[i] & 15]);
  }
  return Digest(algorithm_, std::move(hex));
}

Digest sha256_of(std::string_view data) {
  Hasher hasher;
  hasher.update(data);
  return hasher.digest();
}

}  // namespace skiff
