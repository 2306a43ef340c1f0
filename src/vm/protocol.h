// The wire protocol between skiff (host) and its guest agent, spoken over
// one virtio-serial port. Shared by both sides, so it depends on nothing but
// the C++ standard library (the agent is a small static binary).
//
// Every message is a frame: a 12-byte header, then `length` payload bytes.
//   u32 length   payload size, little endian, at most kMaxPayload
//   u8  type     a MessageType
//   u8  reserved[3]
//   u32 process  which process the frame is about: 0 is the container's
//                main process, exec'd processes get ids from the host
//
// Conversation:
//   agent -> host  hello                      the guest booted; agent ready
//   host  -> agent start   (process 0, spec)  mount the root, run the process
//   host  -> agent stdin / stdin_eof / signal / resize / exec (spec)
//   agent -> host  stdout / stderr / exit (i32 status) / error (text)
//                  trace (text: phase timings, for --log-level debug)
//
// A spec is a list of fields: u8 tag, u32 length, bytes (see SpecTag).
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace skiff::vm::protocol {

inline constexpr std::uint32_t kMaxPayload = 64 * 1024;
inline constexpr std::size_t kHeaderSize = 12;

enum class MessageType : std::uint8_t {
  hello = 1,
  start = 2,
  exec = 3,
  stdin_data = 4,
  stdin_eof = 5,
  stdout_data = 6,
  stderr_data = 7,
  exit = 8,
  signal = 9,
  resize = 10,
  error = 11,
  trace = 12,  // agent -> host: boot/phase timings, logged at debug level
};

enum class SpecTag : std::uint8_t {
  arg = 1,
  env = 2,
  cwd = 3,
  uid = 4,
  gid = 5,
  additional_gid = 6,
  terminal = 7,
  rows = 8,
  cols = 9,
  hostname = 10,
  open_stdin = 11,
};

struct ProcessSpec {
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::string cwd = "/";
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
  std::vector<std::uint32_t> additional_gids;
  bool terminal = false;
  bool open_stdin = false;  // false: the process gets /dev/null as stdin
  std::uint16_t rows = 0;
  std::uint16_t cols = 0;
  std::string hostname;  // start only
};

inline void put_u32(std::string& out, std::uint32_t value) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

inline std::uint32_t get_u32(const char* data) {
  std::uint32_t value = 0;
  for (int i = 0; i < 4; ++i) value |= static_cast<std::uint32_t>(static_cast<unsigned char>(data[i])) << (8 * i);
  return value;
}

struct Frame {
  MessageType type{};
  std::uint32_t process = 0;
  std::string payload;
};

inline std::string encode_frame(MessageType type, std::uint32_t process, std::string_view payload) {
  std::string out;
  out.reserve(kHeaderSize + payload.size());
  put_u32(out, static_cast<std::uint32_t>(payload.size()));
  out.push_back(static_cast<char>(type));
  out.append(3, '\0');
  put_u32(out, process);
  out.append(payload);
  return out;
}

// Accumulates bytes from the stream and cuts them into frames.
class FrameReader {
 public:
  void feed(const char* data, std::size_t size) { buffer_.append(data, size); }
  // The next complete frame; nullopt when more bytes are needed. Sets
  // `corrupt` when a header announces an impossible length.
  std::optional<Frame> next(bool& corrupt) {
    corrupt = false;
    if (buffer_.size() - offset_ < kHeaderSize) return compact(), std::nullopt;
    const char* head = buffer_.data() + offset_;
    std::uint32_t length = get_u32(head);
    if (length > kMaxPayload) {
      corrupt = true;
      return std::nullopt;
    }
    if (buffer_.size() - offset_ < kHeaderSize + length) return compact(), std::nullopt;
    Frame frame;
    frame.type = static_cast<MessageType>(static_cast<unsigned char>(head[4]));
    frame.process = get_u32(head + 8);
    frame.payload.assign(head + kHeaderSize, length);
    offset_ += kHeaderSize + length;
    return frame;
  }

 private:
  void compact() {
    if (offset_ > 0) {
      buffer_.erase(0, offset_);
      offset_ = 0;
    }
  }
  std::string buffer_;
  std::size_t offset_ = 0;
};

inline void put_field(std::string& out, SpecTag tag, std::string_view value) {
  out.push_back(static_cast<char>(tag));
  put_u32(out, static_cast<std::uint32_t>(value.size()));
  out.append(value);
}

inline void put_field(std::string& out, SpecTag tag, std::uint32_t value) {
  std::string bytes;
  put_u32(bytes, value);
  put_field(out, tag, bytes);
}

inline std::string encode_spec(const ProcessSpec& spec) {
  std::string out;
  for (const auto& a : spec.args) put_field(out, SpecTag::arg, a);
  for (const auto& e : spec.env) put_field(out, SpecTag::env, e);
  put_field(out, SpecTag::cwd, spec.cwd);
  put_field(out, SpecTag::uid, spec.uid);
  put_field(out, SpecTag::gid, spec.gid);
  for (auto g : spec.additional_gids) put_field(out, SpecTag::additional_gid, g);
  put_field(out, SpecTag::terminal, spec.terminal ? 1u : 0u);
  put_field(out, SpecTag::open_stdin, spec.open_stdin ? 1u : 0u);
  put_field(out, SpecTag::rows, spec.rows);
  put_field(out, SpecTag::cols, spec.cols);
  if (!spec.hostname.empty()) put_field(out, SpecTag::hostname, spec.hostname);
  return out;
}

// nullopt when the bytes are not a well-formed spec.
inline std::optional<ProcessSpec> decode_spec(std::string_view data) {
  ProcessSpec spec;
  spec.cwd.clear();
  while (!data.empty()) {
    if (data.size() < 5) return std::nullopt;
    auto tag = static_cast<SpecTag>(static_cast<unsigned char>(data[0]));
    std::uint32_t length = get_u32(data.data() + 1);
    if (data.size() - 5 < length) return std::nullopt;
    std::string_view value = data.substr(5, length);
    data.remove_prefix(5 + length);
    auto number = [&]() -> std::optional<std::uint32_t> {
      if (value.size() != 4) return std::nullopt;
      return get_u32(value.data());
    };
    switch (tag) {
      case SpecTag::arg: spec.args.emplace_back(value); break;
      case SpecTag::env: spec.env.emplace_back(value); break;
      case SpecTag::cwd: spec.cwd.assign(value); break;
      case SpecTag::hostname: spec.hostname.assign(value); break;
      default: {
        auto n = number();
        if (!n) return std::nullopt;
        switch (tag) {
          case SpecTag::uid: spec.uid = *n; break;
          case SpecTag::gid: spec.gid = *n; break;
          case SpecTag::additional_gid: spec.additional_gids.push_back(*n); break;
          case SpecTag::terminal: spec.terminal = *n != 0; break;
          case SpecTag::open_stdin: spec.open_stdin = *n != 0; break;
          case SpecTag::rows: spec.rows = static_cast<std::uint16_t>(*n); break;
          case SpecTag::cols: spec.cols = static_cast<std::uint16_t>(*n); break;
          default: break;  // unknown tags from a newer host are ignored
        }
      }
    }
  }
  if (spec.args.empty() || spec.cwd.empty() || spec.cwd[0] != '/') return std::nullopt;
  return spec;
}

inline std::string encode_i32(std::int32_t value) {
  std::string out;
  put_u32(out, static_cast<std::uint32_t>(value));
  return out;
}

inline std::string encode_resize(std::uint16_t rows, std::uint16_t cols) {
  std::string out;
  put_u32(out, rows);
  put_u32(out, cols);
  return out;
}

}  // namespace skiff::vm::protocol
