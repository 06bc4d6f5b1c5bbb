#include "uuid.hpp"

#include <chrono>
#include <cstdint>

#include <uuid/uuid.h>

namespace kohtaamo {
std::string new_uuid() {
    uuid_t raw;
    uuid_generate_random(raw);  // version 4: 122 random bits, the RFC 4122 variant set
    using namespace std::chrono;
    const auto ms = static_cast<std::uint64_t>(
        duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count());
    for (int i = 0; i < 6; ++i) raw[i] = static_cast<unsigned char>(ms >> (40 - 8 * i));  // big-endian
    raw[6] = static_cast<unsigned char>((raw[6] & 0x0F) | 0x70);                           // version 7
    char text[37];
    uuid_unparse_lower(raw, text);
    return text;
}

std::string uuid_from_bytes(std::array<unsigned char, 16> bytes) {
    bytes[6] = static_cast<unsigned char>((bytes[6] & 0x0F) | 0x40);  // version 4
    bytes[8] = static_cast<unsigned char>((bytes[8] & 0x3F) | 0x80);  // RFC 4122 variant
    uuid_t raw;
    for (std::size_t i = 0; i < bytes.size(); ++i) raw[i] = bytes[i];
    char text[37];
    uuid_unparse_lower(raw, text);
    return text;
}
}  // namespace kohtaamo
