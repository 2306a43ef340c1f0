// Content digests ("sha256:<64 hex>") and streaming hashers, backed by
// OpenSSL's EVP interface.
#pragma once

#include <compare>
#include <memory>
#include <string>
#include <string_view>

namespace skiff {

class Digest {
 public:
  Digest() = default;
  // Throws invalid_argument naming the bad part for anything that is not
  // "sha256:<64 lowercase hex>" or "sha512:<128 lowercase hex>".
  static Digest parse(std::string_view text);
  static bool valid(std::string_view text) noexcept;

  const std::string& algorithm() const { return algorithm_; }
  const std::string& hex() const { return hex_; }
  std::string str() const { return algorithm_ + ":" + hex_; }
  // The first 12 hex characters, as docker shows image IDs.
  std::string short_hex() const { return hex_.substr(0, 12); }
  bool empty() const { return hex_.empty(); }

  auto operator<=>(const Digest&) const = default;

 private:
  Digest(std::string algorithm, std::string hex)
      : algorithm_(std::move(algorithm)), hex_(std::move(hex)) {}
  friend class Hasher;
  std::string algorithm_;
  std::string hex_;
};

class Hasher {
 public:
  explicit Hasher(std::string_view algorithm = "sha256");
  Hasher(Hasher&&) noexcept;
  Hasher& operator=(Hasher&&) noexcept;
  ~Hasher();

  void update(const void* data, size_t size);
  void update(std::string_view data) { update(data.data(), data.size()); }
  // A digest of everything so far; the hasher can keep going afterwards.
  Digest digest() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
  std::string algorithm_;
};

Digest sha256_of(std::string_view data);

}  // namespace skiff
