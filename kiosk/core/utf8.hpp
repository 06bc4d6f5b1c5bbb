// utf8.hpp — UTF-8 to code points, for the few places that look at characters (emoji
// icons). Invalid UTF-8 gives std::nullopt.
#pragma once
#include <optional>
#include <string_view>
#include <vector>

namespace kohtaamo {
std::optional<std::vector<char32_t>> utf8_decode(std::string_view s);
}
