// uuid.hpp — version 4 UUIDs as lowercase text (8-4-4-4-12), through libuuid.
#pragma once
#include <array>
#include <string>

namespace kohtaamo {
// A random UUID (uuid_generate_random): every response, batch and device id.
std::string new_uuid();
// A version 4 UUID made of the caller's 16 random bytes (the version and variant bits are
// set over them): for data that must come out the same on every run, such as
// kohtaamo-demo-data's from its seed.
std::string uuid_from_bytes(std::array<unsigned char, 16> bytes);
}
