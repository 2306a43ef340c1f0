# The third-party headers nearly every file includes (nlohmann-json, fmt,
# CLI11, GoogleTest) cost more to parse than the code that uses them: each
# target gets them precompiled once. Static helper programs (the monitor,
# the guest agent) keep their own flags and are left out.
set(SKIFF_PCH_HEADERS <string> <vector> <map> <optional> <memory> <functional>
  <filesystem> <nlohmann/json.hpp> <fmt/format.h>)

function(skiff_precompile_headers directory)
  get_property(targets DIRECTORY ${directory} PROPERTY BUILDSYSTEM_TARGETS)
  foreach(target IN LISTS targets)
    get_target_property(type ${target} TYPE)
    if(NOT (type STREQUAL "STATIC_LIBRARY" OR type STREQUAL "EXECUTABLE"))
      continue()
    endif()
    get_target_property(options ${target} LINK_OPTIONS)
    if(options AND "-static" IN_LIST options)
      continue()
    endif()
    target_precompile_headers(${target} PRIVATE ${SKIFF_PCH_HEADERS})
    if(target STREQUAL "skiff")
      target_precompile_headers(${target} PRIVATE <CLI/CLI.hpp>)
    endif()
    get_target_property(libraries ${target} LINK_LIBRARIES)
    if(libraries AND "GTest::gtest" IN_LIST libraries)
      target_precompile_headers(${target} PRIVATE <gtest/gtest.h>)
    endif()
  endforeach()
  get_property(children DIRECTORY ${directory} PROPERTY SUBDIRECTORIES)
  foreach(child IN LISTS children)
    skiff_precompile_headers(${child})
  endforeach()
endfunction()
