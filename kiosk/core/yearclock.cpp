#include "yearclock.hpp"

#include <algorithm>
#include <cstdio>
#include <set>
#include <string_view>

#include "survey.hpp"

namespace kohtaamo {

namespace {

// "YYYY-MM-DD" naming a real calendar day (leap years included); returns its month or 0.
int date_month(const std::string& s) { return valid_date(s) ? (s[5] - '0') * 10 + (s[6] - '0') : 0; }

std::string two(int v) { return (v < 10 ? "0" : "") + std::to_string(v); }

}  // namespace

std::string wish_question(int month) { return "wish-" + two(month); }
std::string idea_question(int month) { return "idea-" + two(month); }

namespace {
// The MM of "<prefix>MM" (01..12); 0 otherwise.
int month_of(const std::string& q, std::string_view prefix) {
    if (q.size() != prefix.size() + 2 || q.compare(0, prefix.size(), prefix) != 0) return 0;
    const char a = q[prefix.size()], b = q[prefix.size() + 1];
    if (a < '0' || a > '1' || b < '0' || b > '9') return 0;
    const int m = (a - '0') * 10 + (b - '0');
    return m >= 1 && m <= 12 ? m : 0;
}
}  // namespace

int wish_month(const std::string& q) { return month_of(q, "wish-"); }
int idea_month(const std::string& q) { return month_of(q, "idea-"); }

YearClockRow yearclock_row(const std::string& q) {
    if (wish_month(q)) return YearClockRow::Wish;
    if (idea_month(q)) return YearClockRow::Idea;
    if (q == "come") return YearClockRow::Come;
    return YearClockRow::None;
}

int local_month(std::int64_t wall_ms) { return local_parts(wall_ms).month; }

std::vector<const YearClockEvent*> YearClock::coming_events(int m, const std::string& today) const {
    std::vector<const YearClockEvent*> out;
    for (const auto& e : events)  // already sorted by date
        if (e.month == m && e.date >= today) out.push_back(&e);
    if (out.size() > static_cast<std::size_t>(kMaxEventsPerMonth)) out.resize(kMaxEventsPerMonth);
    return out;
}

const YearClockEvent* YearClock::find_event(const std::string& id) const {
    for (const auto& e : events)
        if (e.id == id) return &e;
    return nullptr;
}

const YearClockActivity* YearClock::find_activity(const std::string& id) const {
    for (const auto& a : activities)
        if (a.id == id) return &a;
    return nullptr;
}

void yearclock_only_keys(const TomlReader& r) {
    r.only_keys(r.root(), {"id", "version", "icon", "title", "kind", "ideas", "months", "events", "activities"}, "");
}

YearClock load_yearclock(const TomlReader& r, const std::vector<std::string>& languages,
                         const std::filesystem::path& assets) {
    const toml::table& root = r.root();
    YearClock y;
    y.ideas = r.boolean_or(root, "ideas", false, "");

    // Twelve months, each once.
    auto ms = r.tables(root, "months", "");
    if (ms.size() != 12)
        r.fail(ms.empty() ? &root : ms.back(),
               "a year-clock needs exactly 12 [[months]], one per month (this file has " + std::to_string(ms.size()) + ")");
    std::set<int> seen;
    for (std::size_t i = 0; i < ms.size(); ++i) {
        const toml::table& mt = *ms[i];
        std::string where = "months[" + std::to_string(i) + "]";
        r.only_keys(mt, {"month", "icon", "theme"}, where);
        const std::int64_t m = r.integer(mt, "month", where);
        if (m < 1 || m > 12) r.fail(mt.get("month"), where + ".month must be 1..12, not " + std::to_string(m));
        if (!seen.insert(static_cast<int>(m)).second)
            r.fail(mt.get("month"), "month " + std::to_string(m) + " is in [[months]] twice");
        where = "month " + std::to_string(m);
        YearClockMonth& out = y.months[static_cast<std::size_t>(m - 1)];
        out.month = static_cast<int>(m);
        out.icon = read_icon(r, mt, where, assets);
        out.theme = r.texts(mt, "theme", languages, where);
    }

    // Events: ids unique, dates real; at most kMaxEventsPerMonth per calendar month.
    std::set<std::string> ids;
    std::vector<std::pair<const toml::table*, YearClockEvent>> events;
    for (const toml::table* et : r.tables(root, "events", "")) {
        std::string where = "events[" + std::to_string(events.size()) + "]";
        r.only_keys(*et, {"id", "date", "icon", "text"}, where);
        YearClockEvent e;
        e.id = r.id(*et, "id", where);
        if (!ids.insert(e.id).second) r.fail(et->get("id"), "duplicate event id \"" + e.id + "\"");
        where = "event \"" + e.id + "\"";
        e.date = r.string(*et, "date", where);
        e.month = date_month(e.date);
        if (e.month == 0)
            r.fail(et->get("date"), where + ": date \"" + e.date + "\" is not a date written as YYYY-MM-DD (e.g. \"2027-02-07\")");
        e.icon = read_icon(r, *et, where, assets);
        e.text = r.texts(*et, "text", languages, where);
        events.emplace_back(et, std::move(e));
    }
    std::stable_sort(events.begin(), events.end(), [](const auto& a, const auto& b) { return a.second.date < b.second.date; });
    for (std::size_t i = 0; i < events.size(); ++i) {
        std::size_t same = 0;
        for (std::size_t j = 0; j <= i; ++j)
            same += events[j].second.date.compare(0, 7, events[i].second.date, 0, 7) == 0;
        if (same > static_cast<std::size_t>(YearClock::kMaxEventsPerMonth))
            r.fail(events[i].first, "event \"" + events[i].second.id + "\": more than " +
                                        std::to_string(YearClock::kMaxEventsPerMonth) + " events in " +
                                        events[i].second.date.substr(0, 7) + "; at most that many fit a month's page");
        y.events.push_back(events[i].second);
    }

    // The activities a family can wish for.
    auto as = r.tables(root, "activities", "");
    if (as.size() < 2) r.fail(as.empty() ? &root : as.front(), "a year-clock needs at least two [[activities]] to wish from");
    if (as.size() > 12) r.fail(as[12], "a year-clock has " + std::to_string(as.size()) + " activities; at most 12 fit one screen");
    ids.clear();
    for (std::size_t i = 0; i < as.size(); ++i) {
        const toml::table& at = *as[i];
        std::string where = "activities[" + std::to_string(i) + "]";
        r.only_keys(at, {"id", "icon", "text"}, where);
        YearClockActivity a;
        a.id = r.id(at, "id", where);
        if (!ids.insert(a.id).second) r.fail(at.get("id"), "duplicate activity id \"" + a.id + "\"");
        where = "activity \"" + a.id + "\"";
        a.icon = read_icon(r, at, where, assets);
        a.text = r.texts(at, "text", languages, where);
        y.activities.push_back(std::move(a));
    }
    return y;
}

}  // namespace kohtaamo
