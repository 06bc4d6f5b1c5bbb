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
}  // namespace kohtaamo
