#include "vm/kernel.h"

#include <archive.h>
#include <archive_entry.h>
#include <elf.h>
#include <fcntl.h>

#include <algorithm>
#include <memory>

#include "core/error.h"
#include "core/fs.h"
#include "core/lock.h"
#include "core/log.h"
#include "core/strings.h"
#include "core/subprocess.h"

namespace skiff::vm {

namespace {

using ArchivePtr = std::unique_ptr<archive, int (*)(archive*)>;

ArchivePtr new_reader() { return ArchivePtr(archive_read_new(), archive_read_free); }

// The upstream version hides in the version string Debian builds carry
// ("… Debian 6.1.192-2 (…)"); other kernels only have their release.
KernelVersion upstream_version(const std::string& banner, const std::string& release) {
  auto at = banner.find(" Debian ");
  if (at != std::string::npos) {
    if (auto v = KernelVersion::parse(std::string_view(banner).substr(at + 8))) return *v;
  }
  return KernelVersion::parse(release).value_or(KernelVersion{});
}

}  // namespace

GuestKernel describe_kernel(const fs::path& image, const fs::path& modules_dir) {
  UniqueFd fd(::open(image.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) fail(ErrorKind::not_found, "guest kernel {}: cannot open it ({}); give a bzImage path", image.string(),
                std::strerror(errno));
  std::string head(65536, '\0');
  ssize_t n = ::pread(fd.get(), head.data(), head.size(), 0);
  if (n < 0x210 || head.compare(0x202, 4, "HdrS") != 0)
    fail(ErrorKind::corrupt, "guest kernel {}: not an x86 bzImage (no setup header); give a vmlinuz/bzImage",
         image.string());
  head.resize(static_cast<size_t>(n));
  // boot protocol: kernel_version at 0x20e points (minus 0x200) at the banner.
  size_t offset = static_cast<unsigned char>(head[0x20e]) | (static_cast<unsigned char>(head[0x20f]) << 8);
  offset += 0x200;
  if (offset >= head.size()) fail(ErrorKind::corrupt, "guest kernel {}: setup header has no version string", image.string());
  std::string banner(head.c_str() + offset, strnlen(head.c_str() + offset, head.size() - offset));
  GuestKernel kernel;
  kernel.release = banner.substr(0, banner.find(' '));
  if (kernel.release.empty()) fail(ErrorKind::corrupt, "guest kernel {}: empty version string", image.string());
  kernel.version = upstream_version(banner, kernel.release);
  kernel.image = image;
  kernel.modules_dir = modules_dir;
  kernel.source = image.string();
  return kernel;
}

namespace {

std::uint32_t le32(const std::string& data, size_t at) {
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(data[at + static_cast<size_t>(i)]);
  return v;
}

// Whether an ELF kernel carries XEN_ELFNOTE_PHYS32_ENTRY, the PVH entry
// point qemu boots uncompressed kernels through.
bool has_pvh_note(const std::string& elf) {
  if (elf.size() < sizeof(Elf64_Ehdr) || elf.compare(0, SELFMAG, ELFMAG) != 0 || elf[EI_CLASS] != ELFCLASS64) return false;
  Elf64_Ehdr header;
  std::memcpy(&header, elf.data(), sizeof header);
  for (size_t i = 0; i < header.e_phnum; ++i) {
    size_t at = header.e_phoff + i * sizeof(Elf64_Phdr);
    if (at + sizeof(Elf64_Phdr) > elf.size()) return false;
    Elf64_Phdr ph;
    std::memcpy(&ph, elf.data() + at, sizeof ph);
    if (ph.p_type != PT_NOTE || ph.p_offset + ph.p_filesz > elf.size()) continue;
    size_t pos = ph.p_offset, end = ph.p_offset + ph.p_filesz;
    while (pos + 12 <= end) {
      std::uint32_t namesz = le32(elf, pos), descsz = le32(elf, pos + 4), type = le32(elf, pos + 8);
      std::string_view name(elf.data() + pos + 12, std::min<size_t>(namesz, end - pos - 12));
      if (type == 18 /* XEN_ELFNOTE_PHYS32_ENTRY */ && name.starts_with("Xen")) return true;
      pos += 12 + ((namesz + 3) & ~3u) + ((descsz + 3) & ~3u);
    }
  }
  return false;
}

}  // namespace

bool extract_pvh_image(const fs::path& bzimage, const fs::path& out) {
  std::string image = read_file(bzimage);
  // Boot protocol 2.08+: the compressed kernel's offset and length.
  if (image.size() < 0x250 || image.compare(0x202, 4, "HdrS") != 0) return false;
  size_t setup_sectors = static_cast<unsigned char>(image[0x1f1]);
  if (setup_sectors == 0) setup_sectors = 4;
  size_t offset = (setup_sectors + 1) * 512 + le32(image, 0x248);
  size_t length = le32(image, 0x24c);
  if (offset + length > image.size() || length == 0) return false;
  std::unique_ptr<archive, int (*)(archive*)> reader(archive_read_new(), archive_read_free);
  archive_read_support_filter_all(reader.get());
  archive_read_support_format_raw(reader.get());
  archive_entry* entry;
  if (archive_read_open_memory(reader.get(), image.data() + offset, length) != ARCHIVE_OK ||
      archive_read_next_header(reader.get(), &entry) != ARCHIVE_OK)
    return false;  // a compression libarchive does not know: boot the bzImage
  std::string elf;
  char buffer[1 << 16];
  la_ssize_t n;
  while ((n = archive_read_data(reader.get(), buffer, sizeof buffer)) > 0) elf.append(buffer, static_cast<size_t>(n));
  if (n < 0 || !has_pvh_note(elf)) return false;
  write_file_atomic(out, elf, 0644, false);
  return true;
}

KernelCache::KernelCache(fs::path dir) : dir_(std::move(dir)) {}

std::vector<GuestKernel> KernelCache::list() const {
  std::vector<GuestKernel> kernels;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir_, ec)) {
    if (entry.path().filename().string().starts_with(".")) continue;
    fs::path image = entry.path() / "vmlinuz";
    if (!fs::exists(image)) continue;
    try {
      GuestKernel k = describe_kernel(image, fs::exists(entry.path() / "modules") ? entry.path() / "modules" : fs::path());
      if (fs::exists(entry.path() / "config")) k.config = entry.path() / "config";
      if (fs::exists(entry.path() / "vmlinux")) k.pvh_image = entry.path() / "vmlinux";
      if (auto source = read_file_if_exists(entry.path() / "source")) k.source = std::string(trim(*source));
      kernels.push_back(std::move(k));
    } catch (const Error& e) {
      log::warn("ignoring cached kernel {}: {}", entry.path().string(), e.what());
    }
  }
  std::sort(kernels.begin(), kernels.end(), [](const GuestKernel& a, const GuestKernel& b) {
    return a.version != b.version ? a.version > b.version : a.release > b.release;
  });
  return kernels;
}

std::optional<GuestKernel> KernelCache::newest() const {
  auto kernels = list();
  if (kernels.empty()) return std::nullopt;
  return kernels.front();
}

namespace {

// Streams one member of an outer archive (data.tar.xz inside a .deb) into a
// nested reader without holding it in memory.
struct Nested {
  archive* outer;
  char buffer[65536];
};

la_ssize_t read_nested(archive*, void* data, const void** block) {
  auto* nested = static_cast<Nested*>(data);
  *block = nested->buffer;
  return archive_read_data(nested->outer, nested->buffer, sizeof nested->buffer);
}

struct DebMember {
  std::string control;        // the control file's text
  bool has_kernel = false;
};

// Walks a .deb (an ar archive). Reads the control file; when `extract_to`
// is given, unpacks boot/vmlinuz-*, boot/config-* and lib/modules/<r>/
// into it as vmlinuz, config and modules/.
DebMember read_deb(const fs::path& deb, const fs::path& extract_to) {
  DebMember result;
  auto outer = new_reader();
  archive_read_support_format_ar(outer.get());
  if (archive_read_open_filename(outer.get(), deb.c_str(), 65536) != ARCHIVE_OK)
    fail(ErrorKind::corrupt, "kernel package {}: {}", deb.string(), archive_error_string(outer.get()));
  archive_entry* member;
  while (archive_read_next_header(outer.get(), &member) == ARCHIVE_OK) {
    std::string name = archive_entry_pathname(member);
    bool control = name.starts_with("control.tar");
    bool data = name.starts_with("data.tar");
    if (!control && !data) continue;
    if (data && extract_to.empty()) continue;
    auto inner = new_reader();
    archive_read_support_format_tar(inner.get());
    archive_read_support_filter_all(inner.get());
    Nested nested{outer.get(), {}};
    if (archive_read_open(inner.get(), &nested, nullptr, read_nested, nullptr) != ARCHIVE_OK)
      fail(ErrorKind::corrupt, "kernel package {}: {}: {}", deb.string(), name, archive_error_string(inner.get()));
    std::unique_ptr<archive, int (*)(archive*)> writer(archive_write_disk_new(), archive_write_free);
    archive_write_disk_set_options(writer.get(), ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_SECURE_NODOTDOT |
                                                     ARCHIVE_EXTRACT_SECURE_SYMLINKS);
    archive_entry* entry;
    int rc;
    while ((rc = archive_read_next_header(inner.get(), &entry)) == ARCHIVE_OK) {
      std::string path = archive_entry_pathname(entry);
      if (path.starts_with("./")) path.erase(0, 2);
      if (control) {
        if (path != "control") continue;
        char buffer[8192];
        la_ssize_t n;
        while ((n = archive_read_data(inner.get(), buffer, sizeof buffer)) > 0) result.control.append(buffer, static_cast<size_t>(n));
        continue;
      }
      std::string target;
      if (path.starts_with("boot/vmlinuz-")) target = "vmlinuz", result.has_kernel = true;
      else if (path.starts_with("boot/config-")) target = "config";
      else if (path.starts_with("usr/")) path.erase(0, 4);
      if (target.empty() && path.starts_with("lib/modules/")) {
        auto slash = path.find('/', 12);  // after lib/modules/<release>
        if (slash == std::string::npos) continue;
        target = "modules" + path.substr(slash);
      }
      if (target.empty()) continue;
      archive_entry_set_pathname(entry, (extract_to / target).c_str());
      if (archive_write_header(writer.get(), entry) != ARCHIVE_OK)
        fail(ErrorKind::internal, "unpack {} from {}: {}", path, deb.string(), archive_error_string(writer.get()));
      const void* block;
      size_t size;
      la_int64_t at;
      while (archive_read_data_block(inner.get(), &block, &size, &at) == ARCHIVE_OK)
        if (archive_write_data_block(writer.get(), block, size, at) != ARCHIVE_OK)
          fail(ErrorKind::internal, "unpack {}: {}", path, archive_error_string(writer.get()));
      archive_write_finish_entry(writer.get());
    }
    if (rc != ARCHIVE_EOF)
      fail(ErrorKind::corrupt, "kernel package {}: {}: {}", deb.string(), name, archive_error_string(inner.get()));
  }
  return result;
}

std::string control_field(const std::string& control, const std::string& field) {
  for (const auto& line : split(control, '\n'))
    if (line.starts_with(field + ":")) return std::string(trim(line.substr(field.size() + 1)));
  return {};
}

fs::path download(const std::string& package, const fs::path& into) {
  CommandOptions options;
  options.directory = into;
  auto result = run_command({"apt-get", "download", "-q", package}, options);
  if (result.exit_code != 0) {
    std::string detail(trim(result.err));
    auto newline = detail.rfind('\n');
    if (newline != std::string::npos) detail = detail.substr(newline + 1);
    fail(ErrorKind::unavailable,
         "fetch guest kernel {}: apt-get download failed ({}); run `apt-get update` or give a kernel with --vm-kernel",
         package, detail);
  }
  for (const auto& entry : fs::directory_iterator(into))
    if (entry.path().extension() == ".deb" && entry.path().filename().string().starts_with(package + "_"))
      return entry.path();
  fail(ErrorKind::unavailable, "fetch guest kernel {}: apt-get download produced no .deb", package);
}

}  // namespace

GuestKernel KernelCache::fetch(const std::string& package) {
  ensure_dir(dir_);
  FileLock lock(dir_ / ".lock");
  TempDir work(dir_, ".fetch-");
  std::string name = package;
  for (int hop = 0; hop < 3; ++hop) {
    fs::path deb = download(name, work.path());
    fs::path unpacked = work.path() / "unpacked";
    remove_tree(unpacked);
    ensure_dir(unpacked);
    DebMember member = read_deb(deb, unpacked);
    if (member.has_kernel) {
      GuestKernel kernel = describe_kernel(unpacked / "vmlinuz");
      fs::path final_dir = dir_ / kernel.release;
      std::string source = fmt::format("debian {} {}", control_field(member.control, "Package"),
                                       control_field(member.control, "Version"));
      write_file_atomic(unpacked / "source", source + "\n");
      extract_pvh_image(unpacked / "vmlinuz", unpacked / "vmlinux");
      if (!fs::exists(final_dir / "vmlinuz")) {
        remove_tree(final_dir);
        fs::rename(unpacked, final_dir);
      }
      for (const auto& k : list())
        if (k.release == kernel.release) return k;
      fail(ErrorKind::internal, "fetch guest kernel {}: unpacked but not found in {}", package, dir_.string());
    }
    // A metapackage: follow its dependency on a linux-image-* package.
    std::string next;
    for (const auto& dep : split(control_field(member.control, "Depends"), ',')) {
      std::string dep_name(trim(dep));
      dep_name = dep_name.substr(0, dep_name.find_first_of(" (|"));
      if (dep_name.starts_with("linux-image-")) {
        next = dep_name;
        break;
      }
    }
    if (next.empty()) fail(ErrorKind::unsupported, "fetch guest kernel {}: the package has no kernel image and no linux-image-* dependency", name);
    remove_tree(deb);
    name = next;
  }
  fail(ErrorKind::unsupported, "fetch guest kernel {}: too many metapackage hops", package);
}

GuestKernel KernelCache::ensure() {
  if (auto kernel = newest()) {
    if (kernel->pvh_image.empty()) {
      // Cached by an older skiff: add the directly bootable image once.
      FileLock lock(dir_ / ".lock");
      fs::path out = kernel->image.parent_path() / "vmlinux";
      if (fs::exists(out) || extract_pvh_image(kernel->image, out)) kernel->pvh_image = out;
    }
    return *kernel;
  }
  log::info("fetching the guest kernel (Debian's cloud kernel) into {}", dir_.string());
  return fetch();
}

bool kernel_satisfies(const GuestKernel& kernel, std::string_view minimum) {
  if (trim(minimum).empty()) return true;
  auto wanted = KernelVersion::parse(trim(minimum));
  if (!wanted) fail(ErrorKind::invalid_argument, "os.version \"{}\" is not a kernel version (MAJOR.MINOR[.PATCH])", minimum);
  return kernel.version >= *wanted;
}

void check_kernel_requirement(const GuestKernel& kernel, std::string_view minimum) {
  if (kernel_satisfies(kernel, minimum)) return;
  fail(ErrorKind::unsupported,
       "the image needs Linux {} or later (its os.version) but the guest kernel is {} ({}); "
       "give a newer kernel with --vm-kernel",
       std::string(trim(minimum)), kernel.version.str(), kernel.release);
}

}  // namespace skiff::vm
