#include "news.hpp"

#include <algorithm>

#include "survey.hpp"
#include "utf8.hpp"

namespace kohtaamo {

std::vector<NewsItem> load_news(const std::filesystem::path& file, const std::vector<std::string>& languages,
                                const std::string& fallback, const std::filesystem::path& assets) {
    std::vector<NewsItem> out;
    std::error_code ec;
    if (!std::filesystem::exists(file, ec)) return out;
    TomlReader r(file);
    r.only_keys(r.root(), {"news"}, "");
    const auto langs = fallback_first(languages, fallback);
    auto items = r.tables(r.root(), "news", "");
    for (std::size_t i = 0; i < items.size(); ++i) {
        const toml::table& t = *items[i];
        const std::string where = "news[" + std::to_string(i) + "]";
        r.only_keys(t, {"icon", "text"}, where);
        NewsItem n;
        const std::size_t texts_before = r.texts_read().size();
        n.icon = read_icon(r, t, where, assets);
        n.icon_at = r.icons().back();
        n.text = r.texts(t, "text", langs, where);
        n.texts.assign(r.texts_read().begin() + static_cast<std::ptrdiff_t>(texts_before), r.texts_read().end());
        for (const auto& [lang, text] : n.text)
            if (utf8_decode(text).value_or(std::vector<char32_t>{}).size() > 120)
                r.fail(t.get("text"), where + ".text." + lang + " is over 120 characters: keep it short enough to read in passing");
        out.push_back(std::move(n));
    }
    return out;
}

NewsSlot news_slot(std::size_t items, const std::vector<std::string>& languages, std::int64_t ms) {
    // A variant whose base language is offered too (fi-x-selko beside fi) takes no turn of
    // its own: it would mostly repeat its base language's words.
    std::vector<std::string> turns;
    for (const auto& l : languages) {
        const std::string base = base_language(l);
        if (base.empty() || std::find(languages.begin(), languages.end(), base) == languages.end()) turns.push_back(l);
    }
    if (items == 0 || turns.empty()) return {};
    const auto step = static_cast<std::size_t>(std::max<std::int64_t>(0, ms) / kNewsMs);
    return {step % items, turns[(step / items) % turns.size()]};
}

}  // namespace kohtaamo
