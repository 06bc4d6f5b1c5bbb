#include "utf8.hpp"

namespace kohtaamo {

namespace {
// The length of the valid UTF-8 sequence starting at s[i] and its code point; 0 if invalid.
std::size_t sequence_at(std::string_view s, std::size_t i, char32_t& cp) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    std::size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (len == 0 || i + len > s.size()) return 0;
    cp = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
    for (std::size_t k = 1; k < len; ++k) {
        unsigned char cc = static_cast<unsigned char>(s[i + k]);
        if ((cc >> 6) != 0x2) return 0;
        cp = (cp << 6) | (cc & 0x3F);
    }
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

}  // namespace kohtaamo
