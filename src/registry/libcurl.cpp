#include "registry/libcurl.h"

#include <dlfcn.h>

#include "core/error.h"

namespace skiff {

namespace {

template <typename Function>
void resolve(void* library, Function& slot, const char* name) {
  slot = reinterpret_cast<Function>(::dlsym(library, name));
  if (slot == nullptr)
    fail(ErrorKind::unavailable, "libcurl.so.4 lacks {}: install a libcurl4 of version 7.85 or later", name);
}

LibCurl load() {
  void* library = ::dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
  if (library == nullptr)
    fail(ErrorKind::unavailable, "cannot load libcurl ({}): install it with `apt-get install libcurl4`", ::dlerror());
  LibCurl api{};
  resolve(library, api.global_init, "curl_global_init");
  resolve(library, api.easy_init, "curl_easy_init");
  resolve(library, api.easy_cleanup, "curl_easy_cleanup");
  resolve(library, api.easy_reset, "curl_easy_reset");
  resolve(library, api.easy_setopt, "curl_easy_setopt");
  resolve(library, api.easy_getinfo, "curl_easy_getinfo");
  resolve(library, api.easy_perform, "curl_easy_perform");
  resolve(library, api.easy_strerror, "curl_easy_strerror");
  resolve(library, api.slist_append, "curl_slist_append");
  resolve(library, api.slist_free_all, "curl_slist_free_all");
  api.global_init(CURL_GLOBAL_DEFAULT);
  return api;
}

}  // namespace

const LibCurl& libcurl() {
  static const LibCurl api = load();  // never unloaded: handles may outlive any owner
  return api;
}

}  // namespace skiff
