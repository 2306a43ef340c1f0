// Docker-style container names: "adjective_surname", the surname one of the
// people whose work containers stand on.
#pragma once

#include <string>

namespace skiff::container {

// With `numbered`, a digit is appended ("brave_hopper3"), as docker does
// after a collision.
std::string random_name(bool numbered = false);

}  // namespace skiff::container
