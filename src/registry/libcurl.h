// libcurl, loaded on first use. Linking it would make every skiff command
// (`skiff run` included) map the ~30 libraries it depends on (TLS, Kerberos,
// LDAP, IDN…) at start: 10-15 ms of dynamic loading that only registry
// traffic needs.
#pragma once

#include <curl/curl.h>

namespace skiff {

struct LibCurl {
  decltype(&::curl_global_init) global_init;
  decltype(&::curl_easy_init) easy_init;
  decltype(&::curl_easy_cleanup) easy_cleanup;
  decltype(&::curl_easy_reset) easy_reset;
  decltype(&::curl_easy_setopt) easy_setopt;
  decltype(&::curl_easy_getinfo) easy_getinfo;
  decltype(&::curl_easy_perform) easy_perform;
  decltype(&::curl_easy_strerror) easy_strerror;
  decltype(&::curl_slist_append) slist_append;
  decltype(&::curl_slist_free_all) slist_free_all;
};

// Loads libcurl.so.4 once (thread-safe); throws `unavailable` naming the
// package to install when it is missing.
const LibCurl& libcurl();

}  // namespace skiff
