// schema.hpp — the store's schema, as the list of migration steps that build it.
// Step i (0-based) takes a file from user_version i to i+1. Never edit a released step:
// add a new one. docs/store.md shows the resulting schema.
#pragma once
#include <vector>

namespace kohtaamo {
const std::vector<const char*>& schema_migrations();
}
