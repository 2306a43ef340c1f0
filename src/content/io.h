// Small POSIX helpers shared by the content store's files.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string_view>

namespace skiff::content {

void write_all(int fd, const char* data, size_t size, const std::filesystem::path& path);
// Reads `fd` from `offset` for `length` bytes (all when UINT64_MAX), in
// chunks handed to `consume`.
void read_range(int fd, std::uint64_t offset, std::uint64_t length, const std::filesystem::path& path,
                const std::function<void(const char*, size_t)>& consume);

}  // namespace skiff::content
