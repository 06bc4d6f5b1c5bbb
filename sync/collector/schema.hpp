// schema.hpp — the collector's schema for each database, as numbered steps (schema.cpp).
#pragma once
#include <vector>

#include "sql.hpp"

namespace kohtaamo::sync {

// The steps for `dialect`, in order; step i brings version i to i + 1. Both lists have the
// same length: version N means the same tables on either database.
const std::vector<const char*>& schema_steps(sql::Dialect dialect);

}  // namespace kohtaamo::sync
