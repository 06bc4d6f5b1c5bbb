// utf8.hpp — UTF-8 to code points or characters, for the few places that look at
// characters (emoji icons, the keyboard's keys). Invalid UTF-8 gives std::nullopt.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kohtaamo {
std::optional<std::vector<char32_t>> utf8_decode(std::string_view s);
// "aå€" → {"a", "å", "€"}: each code point as its own UTF-8 string.
std::optional<std::vector<std::string>> utf8_split(std::string_view s);
}
