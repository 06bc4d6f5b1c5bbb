#include "uuid.hpp"

#include <uuid/uuid.h>

namespace kohtaamo {
std::string new_uuid() {
    uuid_t raw;
    uuid_generate_random(raw);
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
