#include "utf8.hpp"

#include <cstdint>
#include <cstdio>
#include <cstring>

namespace kohtaamo {

namespace {
// The length of the well-formed UTF-8 sequence starting at s[i] and its code point; 0 if
// it is not one (RFC 3629, table 3-7 of the Unicode standard).
std::size_t sequence_at(std::string_view s, std::size_t i, char32_t& cp) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    std::size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (len == 0 || i + len > s.size()) return 0;
    cp = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
    for (std::size_t k = 1; k < len; ++k) {
        const unsigned char cc = static_cast<unsigned char>(s[i + k]);
        if ((cc >> 6) != 0x2) return 0;
        cp = (cp << 6) | (cc & 0x3F);
    }
    static constexpr char32_t kShortest[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kShortest[len]) return 0;                 // overlong (C0 AF for "/")
    if (cp >= 0xD800 && cp <= 0xDFFF) return 0;        // a surrogate is not a character
    if (cp > 0x10FFFF) return 0;                       // beyond Unicode
    return len;
}
}  // namespace

std::optional<std::vector<char32_t>> utf8_decode(std::string_view s) {
    std::vector<char32_t> out;
    for (std::size_t i = 0; i < s.size();) {
        char32_t cp = 0;
        const std::size_t len = sequence_at(s, i, cp);
        if (len == 0) return std::nullopt;
        out.push_back(cp);
        i += len;
    }
    return out;
}

std::optional<std::vector<std::string>> utf8_split(std::string_view s) {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < s.size();) {
        char32_t cp = 0;
        const std::size_t len = sequence_at(s, i, cp);
        if (len == 0) return std::nullopt;
        out.emplace_back(s.substr(i, len));
        i += len;
    }
    return out;
}

std::optional<std::size_t> utf8_invalid_at(std::string_view s) {
    for (std::size_t i = 0; i < s.size();) {
        // Eight ASCII bytes at a time (no byte with its high bit set): most of what the
        // kiosk and the collector check is ids, timestamps and short ASCII values.
        std::uint64_t word = 0;
        if (i + sizeof word <= s.size() &&
            (std::memcpy(&word, s.data() + i, sizeof word), (word & 0x8080808080808080ULL) == 0)) {
            i += sizeof word;
            continue;
        }
        char32_t cp = 0;
        const std::size_t len = sequence_at(s, i, cp);
        if (len == 0) return i;
        i += len;
    }
    return std::nullopt;
}

std::optional<char32_t> first_control(std::string_view s, std::string_view allowed) {
    for (std::size_t i = 0; i < s.size(); ++i) {
        const unsigned char c = static_cast<unsigned char>(s[i]);
        if ((c < 0x20 && allowed.find(static_cast<char>(c)) == std::string_view::npos) || c == 0x7F) return c;
        // U+0080..U+009F are C2 80..C2 9F in UTF-8.
        if (c == 0xC2 && i + 1 < s.size()) {
            const unsigned char n = static_cast<unsigned char>(s[i + 1]);
            if (n >= 0x80 && n <= 0x9F) return n;
        }
    }
    return std::nullopt;
}

std::string describe_code_point(char32_t c) {
    static const char* const kC0[] = {"NUL", "SOH", "STX", "ETX", "EOT", "ENQ", "ACK", "BEL", "backspace", "tab",
                                      "line feed", "VT", "form feed", "carriage return", "SO", "SI", "DLE", "DC1",
                                      "DC2", "DC3", "DC4", "NAK", "SYN", "ETB", "CAN", "EM", "SUB", "escape", "FS",
                                      "GS", "RS", "US"};
    char buf[48];
    const char* name = c < 0x20 ? kC0[c] : c == 0x7F ? "DEL" : (c >= 0x80 && c <= 0x9F) ? "a C1 control" : nullptr;
    if (name)
        std::snprintf(buf, sizeof buf, "U+%04X (%s)", static_cast<unsigned>(c), name);
    else
        std::snprintf(buf, sizeof buf, "U+%04X", static_cast<unsigned>(c));
    return buf;
}

}  // namespace kohtaamo
