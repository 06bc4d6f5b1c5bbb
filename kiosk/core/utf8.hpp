// utf8.hpp — UTF-8 to code points or characters, for the few places that look at
// characters (emoji icons, the keyboard's keys, the sync protocol's text rules). Only
// well-formed UTF-8 (RFC 3629) is accepted: no overlong forms, no surrogates (U+D800 to
// U+DFFF), nothing above U+10FFFF, no cut-off sequence. Invalid UTF-8 gives std::nullopt.
#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kohtaamo {
std::optional<std::vector<char32_t>> utf8_decode(std::string_view s);
// "aå€" → {"a", "å", "€"}: each code point as its own UTF-8 string.
std::optional<std::vector<std::string>> utf8_split(std::string_view s);
// The byte offset of the first byte that is not well-formed UTF-8; nullopt when all is.
std::optional<std::size_t> utf8_invalid_at(std::string_view s);

// The first control character of well-formed UTF-8 text: C0 (U+0000 to U+001F), DEL
// (U+007F) or C1 (U+0080 to U+009F); `allowed` lists C0 characters that are fine here
// (e.g. "\t\n\r" for free text). nullopt when there is none.
std::optional<char32_t> first_control(std::string_view s, std::string_view allowed = {});
// "U+0009 (tab)": how messages name a code point.
std::string describe_code_point(char32_t c);
}
