#include "vm/initramfs.h"

#include <archive.h>
#include <archive_entry.h>
#include <elf.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <functional>
#include <map>
#include <memory>
#include <set>

#include "core/digest.h"
#include "core/error.h"
#include "core/fs.h"
#include "core/lock.h"
#include "core/strings.h"

extern "C" {
extern const char skiff_agent_start[];
extern const char skiff_agent_end[];
}

namespace skiff::vm {

std::string_view agent_binary() {
  return std::string_view(skiff_agent_start, static_cast<size_t>(skiff_agent_end - skiff_agent_start));
}

namespace {

// "kernel/fs/erofs/erofs.ko.xz" -> "erofs"; module names treat - and _ alike.
std::string module_name(const fs::path& path) {
  std::string name = path.filename().string();
  name = name.substr(0, name.find(".ko"));
  for (auto& c : name)
    if (c == '-') c = '_';
  return name;
}

bool is_module_file(const fs::path& path) {
  std::string name = path.filename().string();
  return name.ends_with(".ko") || name.ends_with(".ko.xz") || name.ends_with(".ko.zst") || name.ends_with(".ko.gz");
}

// The "depends=" entry of the module's .modinfo section.
std::vector<std::string> modinfo_depends(const fs::path& path) {
  std::string data = read_module(path);
  auto fail_format = [&] { fail(ErrorKind::corrupt, "kernel module {}: not a 64-bit ELF object", path.string()); };
  if (data.size() < sizeof(Elf64_Ehdr) || data.compare(0, SELFMAG, ELFMAG) != 0 || data[EI_CLASS] != ELFCLASS64) fail_format();
  Elf64_Ehdr header;
  std::memcpy(&header, data.data(), sizeof header);
  if (header.e_shoff == 0 || header.e_shentsize != sizeof(Elf64_Shdr) ||
      header.e_shoff + static_cast<std::uint64_t>(header.e_shnum) * sizeof(Elf64_Shdr) > data.size() ||
      header.e_shstrndx >= header.e_shnum)
    fail_format();
  auto section = [&](size_t index) {
    Elf64_Shdr s;
    std::memcpy(&s, data.data() + header.e_shoff + index * sizeof(Elf64_Shdr), sizeof s);
    if (s.sh_offset + s.sh_size > data.size()) fail_format();
    return s;
  };
  Elf64_Shdr names = section(header.e_shstrndx);
  for (size_t i = 0; i < header.e_shnum; ++i) {
    Elf64_Shdr s = section(i);
    if (s.sh_name >= names.sh_size) continue;
    if (std::string_view(data.data() + names.sh_offset + s.sh_name) != ".modinfo") continue;
    std::string_view info(data.data() + s.sh_offset, s.sh_size);
    size_t start = 0;
    while (start < info.size()) {
      size_t end = info.find('\0', start);
      if (end == std::string_view::npos) end = info.size();
      std::string_view field = info.substr(start, end - start);
      if (field.starts_with("depends=")) {
        std::vector<std::string> deps;
        for (auto& d : split(field.substr(8), ','))
          if (!d.empty()) deps.push_back(module_name(d));
        return deps;
      }
      start = end + 1;
    }
    return {};
  }
  return {};
}

// Which options the kernel config sets to y or m (empty map: unknown).
std::map<std::string, char> read_config(const fs::path& config) {
  std::map<std::string, char> options;
  if (config.empty()) return options;
  auto text = read_file_if_exists(config);
  if (!text) return options;
  for (const auto& line : split(*text, '\n')) {
    auto eq = line.find('=');
    if (!line.starts_with("CONFIG_") || eq == std::string::npos || eq + 1 >= line.size()) continue;
    options[line.substr(0, eq)] = line[eq + 1];
  }
  return options;
}

const std::map<std::string, std::string>& config_option_of() {
  static const std::map<std::string, std::string> options = {
      {"virtio_mmio", "CONFIG_VIRTIO_MMIO"}, {"virtio_blk", "CONFIG_VIRTIO_BLK"},
      {"virtio_console", "CONFIG_VIRTIO_CONSOLE"}, {"erofs", "CONFIG_EROFS_FS"}, {"overlay", "CONFIG_OVERLAY_FS"}};
  return options;
}

}  // namespace

std::string strip_module_signature(std::string module) {
  // <module><signature><struct module_signature (12 bytes, sig_len BE last)><magic>
  static constexpr std::string_view magic = "~Module signature appended~\n";
  if (module.size() < magic.size() + 12 || !std::string_view(module).ends_with(magic)) return module;
  size_t info = module.size() - magic.size() - 12;
  std::uint32_t sig_len = 0;
  for (int i = 0; i < 4; ++i) sig_len = (sig_len << 8) | static_cast<unsigned char>(module[info + 8 + static_cast<size_t>(i)]);
  if (sig_len > info) return module;
  module.resize(info - sig_len);
  return module;
}

std::string read_module(const fs::path& path) {
  std::string name = path.filename().string();
  if (name.ends_with(".ko")) return read_file(path);
  std::unique_ptr<archive, int (*)(archive*)> reader(archive_read_new(), archive_read_free);
  archive_read_support_filter_all(reader.get());
  archive_read_support_format_raw(reader.get());
  archive_entry* entry;
  if (archive_read_open_filename(reader.get(), path.c_str(), 65536) != ARCHIVE_OK ||
      archive_read_next_header(reader.get(), &entry) != ARCHIVE_OK)
    fail(ErrorKind::corrupt, "kernel module {}: {}", path.string(), archive_error_string(reader.get()));
  std::string data;
  char buffer[65536];
  la_ssize_t n;
  while ((n = archive_read_data(reader.get(), buffer, sizeof buffer)) > 0) data.append(buffer, static_cast<size_t>(n));
  if (n < 0) fail(ErrorKind::corrupt, "kernel module {}: {}", path.string(), archive_error_string(reader.get()));
  return data;
}

std::vector<ModuleFile> resolve_modules(const GuestKernel& kernel, const std::vector<std::string>& wanted) {
  auto config = read_config(kernel.config);
  if (kernel.modules_dir.empty()) {
    for (const auto& name : wanted) {
      auto option = config_option_of().find(name);
      if (option != config_option_of().end() && config.count(option->second) && config[option->second] == 'm')
        fail(ErrorKind::not_found,
             "guest kernel {}: {} is a module but no modules directory was given; pass the kernel's lib/modules/<release>",
             kernel.release, name);
    }
    return {};  // trust that everything is built in
  }
  std::map<std::string, fs::path> files;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(kernel.modules_dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec))
    if (it->is_regular_file() && is_module_file(it->path())) files.emplace(module_name(it->path()), it->path());
  if (ec) fail(ErrorKind::not_found, "guest kernel {}: cannot read modules directory {}: {}", kernel.release,
               kernel.modules_dir.string(), ec.message());
  std::set<std::string> builtin;
  if (auto text = read_file_if_exists(kernel.modules_dir / "modules.builtin"))
    for (const auto& line : split(*text, '\n'))
      if (!line.empty()) builtin.insert(module_name(line));
  std::map<std::string, std::vector<std::string>> dep_file;
  bool have_dep_file = false;
  if (auto text = read_file_if_exists(kernel.modules_dir / "modules.dep")) {
    have_dep_file = true;
    for (const auto& line : split(*text, '\n')) {
      auto colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::vector<std::string> deps;
      for (const auto& d : split(std::string(trim(line.substr(colon + 1))), ' '))
        if (!d.empty()) deps.push_back(module_name(d));
      dep_file[module_name(line.substr(0, colon))] = std::move(deps);
    }
  }

  std::vector<ModuleFile> order;
  std::set<std::string> done, visiting;
  std::function<void(const std::string&, const std::string&)> visit = [&](const std::string& name, const std::string& needed_by) {
    if (done.count(name) || builtin.count(name)) return;
    if (visiting.count(name)) fail(ErrorKind::corrupt, "guest kernel {}: module dependency cycle at {}", kernel.release, name);
    auto file = files.find(name);
    if (file == files.end()) {
      auto option = config_option_of().find(name);
      if (option != config_option_of().end() && config.count(option->second) && config[option->second] == 'y') return;
      fail(ErrorKind::not_found, "guest kernel {}: module {}{} is neither built in nor in {}; use a kernel that has it",
           kernel.release, name, needed_by.empty() ? "" : " (needed by " + needed_by + ")", kernel.modules_dir.string());
    }
    visiting.insert(name);
    // modules.dep lists every transitive dependency; order still comes from the walk.
    auto deps = have_dep_file && dep_file.count(name) ? dep_file[name] : modinfo_depends(file->second);
    for (const auto& dep : deps) visit(dep, name);
    visiting.erase(name);
    done.insert(name);
    order.push_back({name, file->second});
  };
  for (const auto& name : wanted) visit(name, "");
  return order;
}

namespace {

class CpioWriter {
 public:
  explicit CpioWriter(const fs::path& path) : archive_(archive_write_new(), archive_write_free), path_(path) {
    archive_write_set_format_cpio_newc(archive_.get());
    archive_write_add_filter_none(archive_.get());
    // No padding to 10 KiB blocks: the kernel does not need it.
    archive_write_set_bytes_per_block(archive_.get(), 0);
    if (archive_write_open_filename(archive_.get(), path.c_str()) != ARCHIVE_OK) error("open");
  }
  void directory(const std::string& name) { add(name, AE_IFDIR | 0755, {}, 0); }
  void file(const std::string& name, std::string_view data, mode_t mode = 0644) { add(name, AE_IFREG | mode, data, 0); }
  void char_device(const std::string& name, mode_t mode, dev_t device) { add(name, AE_IFCHR | mode, {}, device); }
  void close() {
    if (archive_write_close(archive_.get()) != ARCHIVE_OK) error("close");
  }

 private:
  void add(const std::string& name, mode_t mode, std::string_view data, dev_t device) {
    std::unique_ptr<archive_entry, void (*)(archive_entry*)> entry(archive_entry_new(), archive_entry_free);
    archive_entry_set_pathname(entry.get(), name.c_str());
    archive_entry_set_mode(entry.get(), mode);
    archive_entry_set_ino(entry.get(), ++inode_);
    archive_entry_set_nlink(entry.get(), (mode & AE_IFMT) == AE_IFDIR ? 2 : 1);
    archive_entry_set_mtime(entry.get(), 0, 0);
    if (device) archive_entry_set_rdev(entry.get(), device);
    archive_entry_set_size(entry.get(), static_cast<la_int64_t>(data.size()));
    if (archive_write_header(archive_.get(), entry.get()) != ARCHIVE_OK) error("add " + name);
    if (!data.empty() && archive_write_data(archive_.get(), data.data(), data.size()) != static_cast<la_ssize_t>(data.size()))
      error("write " + name);
  }
  [[noreturn]] void error(const std::string& what) {
    fail(ErrorKind::internal, "initramfs {}: {}: {}", path_.string(), what, archive_error_string(archive_.get()));
  }
  std::unique_ptr<archive, int (*)(archive*)> archive_;
  fs::path path_;
  std::int64_t inode_ = 0;
};

}  // namespace

fs::path ensure_initramfs(const fs::path& cache_dir, const GuestKernel& kernel) {
  // The key names everything that goes in without reading it (this runs on
  // every VM start): the agent, the kernel, and the modules directory as
  // depmod or our unpacking left it. A new agent or kernel gets a new
  // archive; an old one is never wrong.
  static const std::string agent_digest = sha256_of(agent_binary()).hex();
  auto stamp = [](const fs::path& p) {
    struct stat st {};
    if (p.empty() || ::stat(p.c_str(), &st) != 0) return std::string("-");
    return fmt::format("{} {} {}.{}", p.string(), st.st_size, st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
  };
  Hasher key;
  key.update("skiff-initramfs-v3\n" + agent_digest + "\n" + kernel.release + "\n" + stamp(kernel.image) + "\n" +
             stamp(kernel.modules_dir) + "\n" + stamp(kernel.modules_dir.empty() ? fs::path() : kernel.modules_dir / "modules.dep") +
             "\n" + stamp(kernel.modules_dir.empty() ? fs::path() : kernel.modules_dir / "modules.order") + "\n");
  for (const auto& m : required_modules()) key.update(m + "\n");
  fs::path path = cache_dir / (key.digest().hex().substr(0, 32) + ".cpio");
  if (fs::exists(path)) return path;
  auto modules = resolve_modules(kernel, required_modules());

  ensure_dir(cache_dir);
  FileLock lock(cache_dir / ".lock");
  if (fs::exists(path)) return path;
  fs::path temp = cache_dir / (".build-" + path.filename().string());
  try {
    CpioWriter cpio(temp);
    for (const char* dir : {"dev", "mnt", "mnt/lower", "mnt/root", "mnt/rw", "modules", "proc", "sys"}) cpio.directory(dir);
    cpio.char_device("dev/console", 0600, makedev(5, 1));
    cpio.file("init", agent_binary(), 0755);
    std::string order;
    for (const auto& m : modules) {
      cpio.file("modules/" + m.name + ".ko", strip_module_signature(read_module(m.path)));
      order += m.name + ".ko\n";
    }
    cpio.file("modules/order", order);
    cpio.close();
    fs::rename(temp, path);
  } catch (...) {
    std::error_code ec;
    fs::remove(temp, ec);
    throw;
  }
  return path;
}

}  // namespace skiff::vm
