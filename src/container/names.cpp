#include "container/names.h"

#include <sys/random.h>

#include <array>
#include <string_view>

namespace skiff::container {

namespace {

constexpr std::array<std::string_view, 48> adjectives = {
    "agile",   "bold",    "brave",   "bright",  "calm",    "clever",  "crisp",   "daring",
    "eager",   "elegant", "fair",    "fearless", "focused", "frosty",  "gallant", "gentle",
    "happy",   "hardy",   "humble",  "jolly",   "keen",    "kind",    "lively",  "lucid",
    "merry",   "modest",  "nimble",  "noble",   "patient", "plucky",  "proud",   "quick",
    "quiet",   "rapid",   "serene",  "sharp",   "silent",  "sleek",   "steady",  "stoic",
    "sturdy",  "swift",   "tender",  "tidy",    "trusty",  "vivid",   "wise",    "zesty"};

constexpr std::array<std::string_view, 48> surnames = {
    "allen",    "babbage",  "backus",   "bell",     "borg",     "cerf",     "codd",     "corbato",
    "dijkstra", "engelbart", "feigenbaum", "floyd", "hamilton", "hopper",   "joy",      "kahn",
    "kay",      "kernighan", "knuth",   "lamport",  "liskov",   "lovelace", "mccarthy", "mcilroy",
    "minsky",   "moore",    "naur",     "neumann",  "perlman",  "pike",     "ritchie",  "shannon",
    "sutherland", "tanenbaum", "thompson", "torvalds", "turing", "vixie",   "wilkes",   "wirth",
    "wozniak",  "yao",      "zuse",     "hoare",    "milner",   "rivest",   "shamir",   "diffie"};

unsigned random_below(unsigned bound) {
  unsigned value = 0;
  if (::getrandom(&value, sizeof value, 0) != sizeof value) value = static_cast<unsigned>(reinterpret_cast<uintptr_t>(&value));
  return value % bound;
}

}  // namespace

std::string random_name(bool numbered) {
  std::string name(adjectives[random_below(adjectives.size())]);
  name += '_';
  name += surnames[random_below(surnames.size())];
  if (numbered) name += std::to_string(random_below(10));
  return name;
}

}  // namespace skiff::container
