// news.hpp — "you said, we did": short messages the centre writes about what it changed
// because of families' wishes, shown in turn on the welcome screen (config/news.toml).
#pragma once
#include <filesystem>
#include <string>
#include <vector>

#include "toml_reader.hpp"

namespace kohtaamo {

struct NewsItem {
    std::string icon;  // one picture: an emoji, or a picture file's path (as a survey's icons)
    LangText text;
    IconRef icon_at;              // where the file names the icon
    std::vector<TextRef> texts;   // where it gives each text
};

// How long each message stays before the next one (and the next language) shows.
constexpr int kNewsMs = 8000;

// Loads [[news]] items (icon, text per language); a missing file gives no items. Mistakes
// are ConfigErrors naming file:line. Picture icons are named relative to `assets`, as in
// a survey (read_icon); without one they are kept as written.
std::vector<NewsItem> load_news(const std::filesystem::path& file, const std::vector<std::string>& languages,
                                const std::string& fallback, const std::filesystem::path& assets = {});

// Which item and which language to show `ms` after the welcome screen opened: every
// kNewsMs the next item; after all items, the next language, so every family sees them in
// its own language in turn. A variant of an offered language (fi-x-selko beside fi) takes
// no turn.
struct NewsSlot {
    std::size_t item = 0;
    std::string lang;
};
NewsSlot news_slot(std::size_t items, const std::vector<std::string>& languages, std::int64_t ms);

}  // namespace kohtaamo
