#include "engine/isolation.h"

#include "core/error.h"
#include "engine/isolation_process.h"
#include "engine/isolation_vm.h"

namespace skiff::engine {

Isolations::Isolations(const Root& root, const Config& config, runtime::Runtime& runtime)
    : process_(std::make_unique<ProcessIsolation>(runtime)), vm_(std::make_unique<VmIsolation>(root, config)) {}

Isolations::~Isolations() = default;

std::optional<std::string> Isolations::canonical_name(std::string_view requested) {
  if (requested == "process") return "process";
  if (requested == "vm" || requested == "hyperv") return "vm";
  return std::nullopt;
}

const Isolation& Isolations::get(std::string_view name) const {
  for (const Isolation* handler : {static_cast<const Isolation*>(process_.get()), static_cast<const Isolation*>(vm_.get())})
    if (handler->name() == name) return *handler;
  fail(ErrorKind::internal, "the container record names an isolation skiff does not know: \"{}\"", name);
}

}  // namespace skiff::engine
