// uuid.hpp — random (version 4) UUIDs from libuuid, as lowercase text.
#pragma once
#include <string>

namespace kohtaamo {
std::string new_uuid();
}
