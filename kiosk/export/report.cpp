// report.cpp — counting as the rows go by, and drawing the page (see report.hpp).
#include "report.hpp"

#include <algorithm>
#include <cmath>

#include "clock.hpp"
#include "media.hpp"
#include "output.hpp"

namespace kohtaamo {

bool is_free_text(QuestionKind kind) {
    switch (kind) {
        case QuestionKind::Smiley:
        case QuestionKind::Picture:
        case QuestionKind::Agree:
        case QuestionKind::Choice: return false;
        case QuestionKind::Text: return true;
    }
    return true;
}

bool may_be_free_text(const Survey* def, const std::string& question_id) {
    if (def && def->yearclock) {
        switch (yearclock_row(question_id)) {
            case YearClockRow::Wish:
            case YearClockRow::Come: return false;
            case YearClockRow::Idea:
            case YearClockRow::None: return true;
        }
    }
    const Question* q = def ? def->find(question_id) : nullptr;
    return q == nullptr || is_free_text(q->kind);
}

bool looks_like_id(const std::string& v) {
    if (v.empty() || v.size() > 64) return false;
    for (char c : v)
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) return false;
    return true;
}

// ---------------------------------------------------------------------------------------
// The report's words

ReportTexts ReportTexts::load(const std::filesystem::path& texts_dir, const std::string& lang) {
    TomlReader r(texts_dir / ("report-" + lang + ".toml"));
    r.only_keys(r.root(), {"report"}, "");
    ReportTexts t;
    t.lang_ = lang;
    const toml::table& report = r.table(r.root(), "report", "");
    for (const auto& [key, node] : report) {
        if (!node.is_string()) r.fail(&node, "report." + std::string(key.str()) + " must be a string");
        t.texts_[std::string(key.str())] = *node.value<std::string>();
    }
    return t;
}

const std::string& ReportTexts::get(const std::string& key) const {
    auto it = texts_.find(key);
    if (it != texts_.end()) return it->second;
    return missing_.emplace(key, "[" + key + "]").first->second;
}

std::string ReportTexts::fill(const std::string& key,
                              std::initializer_list<std::pair<const char*, std::string>> values) const {
    std::string s = get(key);
    for (const auto& [name, value] : values) {
        const std::string token = std::string("{") + name + "}";
        for (auto at = s.find(token); at != std::string::npos; at = s.find(token, at + value.size()))
            s.replace(at, token.size(), value);
    }
    return s;
}

std::string html_escape(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (char c : s) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            case '\'': out += "&#39;"; break;
            default:
                // Control characters are not allowed in HTML (or XML) text.
                if (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t') out += ' ';
                else out += c;
        }
    }
    return out;
}

// ---------------------------------------------------------------------------------------
// Counting


namespace {

// An icon before its words in the report: an emoji and a space; nothing for a picture
// file of the centre's own (the report is one HTML file and carries no pictures).
std::string prefix(const std::string& icon) { return icon.empty() || is_picture_file(icon) ? "" : icon + " "; }

constexpr std::size_t kMaxValues = 64;  // distinct values counted per question; more → "many"
const std::string kMany = "\x01many";   // marker value in Bucket::values

void count_in(ReportBuilder::Bucket& b, const std::vector<const std::string*>& values) {
    ++b.n;
    if (b.values.count(kMany)) return;
    for (const auto* v : values) ++b.values[*v];
    if (b.values.size() > kMaxValues) b.values = {{kMany, 1}};
}


std::string two(int v) { return (v < 10 ? "0" : "") + std::to_string(v); }

}  // namespace

ReportBuilder::ReportBuilder(const std::vector<Survey>& surveys, const ExportOptions& options, ReportTexts texts,
                             Catalog ui)
    : surveys_(surveys), options_(options), texts_(std::move(texts)), ui_(std::move(ui)) {}

ReportBuilder::QuestionStats& ReportBuilder::question(SurveyStats& s, const std::string& id) {
    for (auto& q : s.questions)
        if (q.id == id) return q;
    QuestionStats q;
    q.id = id;
    q.def = s.def ? s.def->find(id) : nullptr;
    if (q.def) q.files_version = s.def->version;
    s.questions.push_back(std::move(q));
    return s.questions.back();
}

void ReportBuilder::add(const ResponseRow& r, const LocalParts& when, const Survey* answered_with) {
    if (answered_with && answered_with->id != r.survey_id) answered_with = nullptr;
    auto sit = std::find_if(stats_.begin(), stats_.end(), [&](const SurveyStats& s) { return s.id == r.survey_id; });
    if (sit == stats_.end()) {
        SurveyStats s;
        s.id = r.survey_id;
        for (const auto& d : surveys_)
            if (d.id == r.survey_id) s.def = &d;
        if (!s.def) s.def = answered_with;  // not in the survey files: the version answered
        if (s.def)
            for (const auto& q : s.def->questions) question(s, q.id);
        s.is_yearclock = s.def && s.def->yearclock;
        stats_.push_back(std::move(s));
        sit = stats_.end() - 1;
    }
    SurveyStats& s = *sit;
    ++s.responses;
    ++responses_;
    ++languages_[r.language];
    ++sites_[r.site];
    const int h = when.hour;
    ++bands_[h < 9 ? 0 : h >= 19 ? 6 : static_cast<std::size_t>((h - 9) / 2 + 1)];
    if (!first_) first_ = when;
    last_ = when;  // rows come in time order

    std::vector<const std::string*> values;
    bool wished = false, coming = false;
    for (std::size_t i = 0; i < r.answers.size();) {
        const std::string& qid = r.answers[i].question_id;
        values.clear();
        for (; i < r.answers.size() && r.answers[i].question_id == qid; ++i) values.push_back(&r.answers[i].value);
        // A year-clock's rows (in a survey the files describe as something else, a
        // wish-MM is just a question).
        const YearClockRow row = s.def && !s.def->yearclock ? YearClockRow::None : yearclock_row(qid);
        if (row == YearClockRow::Wish || row == YearClockRow::Idea) s.is_yearclock = true;
        if (row != YearClockRow::None) {
            YearClockStats& y = s.yearclock;
            // Each id is counted once per visit (the rows are unique); distinct ids are capped.
            auto tally = [&](std::vector<std::string>& order, auto& counts, const std::string& id) -> bool {
                if (!counts.count(id)) {
                    if (counts.size() >= kMaxValues) {
                        y.many = true;
                        return false;
                    }
                    order.push_back(id);
                }
                return true;
            };
            if (row == YearClockRow::Wish) {
                wished = true;
                const auto m = static_cast<std::size_t>(wish_month(qid) - 1);
                for (const auto* v : values)
                    if (tally(y.activities, y.wishes, *v)) ++y.wishes[*v][m];
            } else if (row == YearClockRow::Come) {
                coming = true;
                for (const auto* v : values)
                    if (tally(y.events, y.come, *v)) ++y.come[*v];
            } else {
                const auto m = static_cast<std::size_t>(idea_month(qid) - 1);
                for (const auto* v : values) {
                    ++y.idea_count[m];
                    y.ideas[m].push_back(*v);
                    if (y.ideas[m].size() > kMaxTexts) y.ideas[m].pop_front();
                }
            }
            // "come" in a survey the files do not describe is also an ordinary question
            // until a wish or an idea shows it is a year-clock's.
            if (row != YearClockRow::Come || s.def) continue;
        }
        QuestionStats& q = question(s, qid);
        if (answered_with)
            if (const Question* asked = answered_with->find(qid)) {
                q.versions[answered_with->version] = asked;
                if (!q.def) q.def = asked;  // a question the survey files no longer have
            }
        bool text = q.def ? is_free_text(q.def->kind) : false;
        if (!q.def)
            for (const auto* v : values)
                if (!looks_like_id(*v)) text = true;
        if (text) {
            q.all_ids = false;
            for (const auto* v : values) {
                ++q.text_count;
                q.texts.push_back(*v);
                if (q.texts.size() > kMaxTexts) q.texts.pop_front();
            }
            q.total.values.clear();
            ++q.total.n;
            continue;
        }
        if (!q.all_ids) {
            ++q.total.n;
            continue;
        }
        count_in(q.total, values);
        count_in(q.weeks[when.iso_year * 100 + when.iso_week], values);
        count_in(q.months[when.year * 100 + when.month], values);
    }
    if (wished) ++s.yearclock.wish_visits;
    if (coming) ++s.yearclock.come_visits;
}

// ---------------------------------------------------------------------------------------
// Formatting

std::string ReportBuilder::fewer() const { return texts_.fill("fewer_than", {{"n", std::to_string(options_.min_group)}}); }

std::string ReportBuilder::count(std::uint64_t n) const {
    if (n > 0 && n < static_cast<std::uint64_t>(options_.min_group)) return fewer();
    return std::to_string(n);
}

std::string ReportBuilder::percent(double p) const {
    return texts_.fill("percent", {{"p", std::to_string(std::lround(p * 100))}});
}

std::string ReportBuilder::date(int y, int m, int d) const {
    return texts_.fill("date", {{"y", std::to_string(y)}, {"m", std::to_string(m)}, {"d", std::to_string(d)},
                                {"mm", two(m)}, {"dd", two(d)},
                                {"mon", texts_.get("month_" + std::to_string(m))}});
}

std::string ReportBuilder::site_name(const std::string& id) const {
    auto it = options_.site_names.find(id);
    return it != options_.site_names.end() && !it->second.empty() ? it->second : id;
}

std::string ReportBuilder::text(const LangText& t, const std::string& fallback) const {
    auto it = t.find(texts_.lang());
    return it != t.end() ? it->second : fallback;
}

std::string ReportBuilder::value_label(const QuestionStats& q, const std::string& value) const {
    if (!q.def) return value;
    switch (q.def->kind) {
        case QuestionKind::Smiley: return ui_.get(texts_.lang(), "smiley_" + std::to_string(q.def->faces) + "_" + value);
        case QuestionKind::Agree: return ui_.get(texts_.lang(), "agree_" + value);
        case QuestionKind::Picture:
        case QuestionKind::Choice: {
            // The newest text of the choice: the survey files', then each version's, newest first.
            std::vector<const Question*> in = {q.def};
            for (auto v = q.versions.rbegin(); v != q.versions.rend(); ++v) in.push_back(v->second);
            for (const Question* d : in)
                for (const auto& c : d->choices)
                    if (c.id == value) return prefix(c.icon) + text(c.text, c.id);
            return value;
        }
        case QuestionKind::Text: return value;
    }
    return value;
}

std::vector<std::string> ReportBuilder::allowed_values(const QuestionStats& q) const {
    std::vector<std::string> out = q.def ? q.def->allowed_values() : std::vector<std::string>{};
    for (auto v = q.versions.rbegin(); v != q.versions.rend(); ++v)
        if (v->second->kind == q.def->kind)
            for (const auto& value : v->second->allowed_values())
                if (std::find(out.begin(), out.end(), value) == out.end()) out.push_back(value);
    return out;
}

// ---------------------------------------------------------------------------------------
// Charts: inline SVG, 720 units wide, scaled to the page. Every bar over fewer than
// min_group answers is drawn as a hatched stub with the "fewer than N" text instead.

namespace {

constexpr int kWidth = 720;
constexpr int kRow = 26;

std::string fmt(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f", v);
    return buf;
}

struct Svg {
    std::string body;
    int height = 0;
    void text(double x, double y, const std::string& s, const char* anchor = "start", const char* cls = "") {
        body += "<text x=\"" + fmt(x) + "\" y=\"" + fmt(y) + "\" text-anchor=\"" + anchor + "\"" +
                (*cls ? std::string(" class=\"") + cls + "\"" : std::string()) + ">" + html_escape(s) + "</text>";
    }
    void rect(double x, double y, double w, double h, const std::string& fill) {
        body += "<rect x=\"" + fmt(x) + "\" y=\"" + fmt(y) + "\" width=\"" + fmt(w) + "\" height=\"" + fmt(h) +
                "\" fill=\"" + fill + "\"/>";
    }
    // `cls`: "wide" (the 720-unit layout), "narrow" (the phone's, 360 units: labels above
    // the bars) or "heat" (a heat map: on a phone its table is shown instead).
    std::string done(const std::string& title, int width = kWidth, const char* cls = "") const {
        return "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " + std::to_string(width) + " " +
               std::to_string(height) + "\"" + (*cls ? std::string(" class=\"") + cls + "\"" : std::string()) +
               " role=\"img\" aria-label=\"" + html_escape(title) + "\">" + body + "</svg>\n";
    }
};

// Where a bar chart's parts go: the wide layout (labels left of the bars) or the phone's
// (each label on its own line above its bar, 360 units wide, so that at 390 px the text
// is drawn at about its size and stays legible).
constexpr int kNarrow = 360;
struct Layout {
    double label_x, bar_x, bar_w;
    const char* anchor;
    double label_dy, bar_dy;
    int row, width;
    const char* cls;
};
Layout wide_layout(double x0, double w) { return {x0 - 8, x0, w, "end", 17, 3, kRow, kWidth, "wide"}; }
Layout narrow_layout(double right) { return {0, 0, kNarrow - right, "start", 14, 19, 2 * kRow - 4, kNarrow, "narrow"}; }

// A chart's numbers as a table: what a screen reader reads (the table is visually hidden
// beside its chart), and on a phone what a heat map shows instead of the map (`heat`).
// The first cell of each row is its header.
std::string data_table(const std::string& caption, const std::vector<std::string>& head,
                       const std::vector<std::vector<std::string>>& rows, bool heat) {
    std::string h = heat ? "<div class=\"table heat\" role=\"region\" tabindex=\"0\" aria-label=\"" + html_escape(caption) + "\">"
                         : std::string("<div class=\"table sr\">");
    h += "<table><caption>" + html_escape(caption) + "</caption><thead><tr>";
    for (const auto& c : head) h += "<th scope=\"col\">" + html_escape(c) + "</th>";
    h += "</tr></thead><tbody>";
    for (const auto& row : rows) {
        h += "<tr>";
        for (std::size_t i = 0; i < row.size(); ++i)
            h += i == 0 ? "<th scope=\"row\">" + html_escape(row[i]) + "</th>" : "<td>" + html_escape(row[i]) + "</td>";
        h += "</tr>";
    }
    return h + "</tbody></table></div>\n";
}

// Free texts, alphabetical, identical ones once with their count (`times` words it).
template <class Times>
std::string text_list(std::vector<std::string> texts, const Times& times) {
    std::sort(texts.begin(), texts.end());
    std::string h = "<ul class=\"texts\">";
    for (std::size_t i = 0; i < texts.size();) {
        std::size_t j = i;
        while (j < texts.size() && texts[j] == texts[i]) ++j;
        h += "<li>" + html_escape(texts[i]) + (j - i > 1 ? " <span class=\"times\">(" + html_escape(times(j - i)) + ")</span>" : "") + "</li>";
        i = j;
    }
    return h + "</ul>\n";
}

const char* scale_color(std::size_t i, std::size_t n) {
    static const char* five[] = {"#d73027", "#fc8d59", "#fee090", "#91bfdb", "#4575b4"};
    static const char* three[] = {"#d73027", "#fee090", "#4575b4"};
    if (n == 3) return three[i];
    return five[std::min<std::size_t>(i, 4)];
}

bool dark(const char* color) { return std::string(color) == "#d73027" || std::string(color) == "#4575b4"; }

}  // namespace

void ReportBuilder::render_scale(std::string& html, const QuestionStats& q, const std::vector<std::string>& values,
                                 bool weeks) const {
    const auto min = static_cast<std::uint64_t>(options_.min_group);
    html += "<div class=\"legend\">";
    for (std::size_t i = 0; i < values.size(); ++i)
        html += "<span><i style=\"background:" + std::string(scale_color(i, values.size())) + "\"></i>" +
                html_escape(value_label(q, values[i])) + "</span>";
    html += "</div>\n";

    auto chart = [&](const std::string& heading, const std::vector<std::pair<std::string, const Bucket*>>& rows) {
      auto draw = [&](const Layout& L) {
        Svg svg;
        const double x0 = L.bar_x, w = L.bar_w;
        for (const auto& [label, b] : rows) {
            const double y = svg.height + L.bar_dy - 3;
            svg.text(L.label_x, svg.height + L.label_dy, label, L.anchor);
            if (b->n < min) {
                svg.rect(x0, y + 3, w, kRow - 6, "url(#hatch)");
                svg.text(x0 + w / 2, y + 17, fewer(), "middle", "fewer");
            } else {
                std::uint64_t sum = 0;
                for (const auto& v : values) {
                    auto it = b->values.find(v);
                    sum += it == b->values.end() ? 0 : it->second;
                }
                double x = x0;
                for (std::size_t i = 0; i < values.size(); ++i) {
                    auto it = b->values.find(values[i]);
                    const double share = sum && it != b->values.end() ? static_cast<double>(it->second) / sum : 0;
                    const double sw = share * w;
                    const char* color = scale_color(i, values.size());
                    if (sw <= 0) continue;
                    svg.rect(x, y + 3, sw, kRow - 6, color);
                    if (sw >= 30) svg.text(x + sw / 2, y + 17, percent(share), "middle", dark(color) ? "in light" : "in");
                    x += sw;
                }
                svg.text(x0 + w + 8, y + 17, texts_.fill("n", {{"n", count(b->n)}}), "start", "n");
            }
            svg.height += L.row;
        }
        return svg.done(heading, L.width, L.cls);
      };
        std::vector<std::string> head = {heading};
        for (const auto& v : values) head.push_back(value_label(q, v));
        head.push_back(texts_.get("col_answered"));
        std::vector<std::vector<std::string>> cells;
        for (const auto& [label, b] : rows) {
            std::vector<std::string> row = {label};
            std::uint64_t sum = 0;
            for (const auto& v : values)
                if (auto it = b->values.find(v); it != b->values.end()) sum += it->second;
            for (const auto& v : values) {
                auto it = b->values.find(v);
                row.push_back(b->n < min ? fewer()
                                         : percent(sum && it != b->values.end() ? static_cast<double>(it->second) / sum : 0));
            }
            row.push_back(count(b->n));
            cells.push_back(std::move(row));
        }
        html += "<h4>" + html_escape(heading) + "</h4>\n" + draw(wide_layout(150, 480)) + draw(narrow_layout(60)) +
                data_table(heading, head, cells, false);
    };

    chart(texts_.get("overall"), {{texts_.get("all"), &q.total}});
    auto period_rows = [&](const std::map<int, Bucket>& m, bool is_week) {
        std::vector<std::pair<std::string, const Bucket*>> rows;
        auto start = m.size() > 53 ? std::prev(m.end(), 53) : m.begin();  // at most a year of weeks
        for (auto it = start; it != m.end(); ++it) {
            const int y = it->first / 100, k = it->first % 100;
            rows.emplace_back(is_week ? texts_.fill("week", {{"week", std::to_string(k)}, {"year", std::to_string(y)}})
                                      : texts_.fill("month_label", {{"month", texts_.get("month_" + std::to_string(k))},
                                                                    {"year", std::to_string(y)}}),
                              &it->second);
        }
        return rows;
    };
    if (weeks && q.weeks.size() > 1) chart(texts_.get("by_week"), period_rows(q.weeks, true));
    if (q.months.size() > 1) chart(texts_.get("by_month"), period_rows(q.months, false));
}

void ReportBuilder::render_ranked(std::string& html, const QuestionStats& q, std::vector<std::string> values) const {
    const auto min = static_cast<std::uint64_t>(options_.min_group);
    auto of = [](const Bucket& b, const std::string& v) {
        auto it = b.values.find(v);
        return it == b.values.end() ? std::uint64_t{0} : it->second;
    };
    for (const auto& [v, _] : q.total.values)
        if (std::find(values.begin(), values.end(), v) == values.end()) values.push_back(v);
    std::stable_sort(values.begin(), values.end(),
                     [&](const std::string& a, const std::string& b) { return of(q.total, a) > of(q.total, b); });
    {
        const std::uint64_t top = values.empty() ? 1 : std::max<std::uint64_t>(1, of(q.total, values.front()));
        auto draw = [&](const Layout& L) {
            Svg svg;
            const double x0 = L.bar_x, w = L.bar_w;
            for (const auto& v : values) {
                const double y = svg.height + L.bar_dy - 3;
                const std::uint64_t c = of(q.total, v);
                svg.text(L.label_x, svg.height + L.label_dy, value_label(q, v), L.anchor);
                if (c > 0) svg.rect(x0, y + 3, w * static_cast<double>(c) / top, kRow - 6, "#4575b4");
                svg.text(x0 + w * static_cast<double>(c) / top + 6, y + 17, percent(static_cast<double>(c) / q.total.n),
                         "start", "n");
                svg.height += L.row;
            }
            return svg.done(texts_.get("ranked"), L.width, L.cls);
        };
        std::vector<std::vector<std::string>> cells;
        for (const auto& v : values)
            cells.push_back({value_label(q, v), percent(static_cast<double>(of(q.total, v)) / q.total.n)});
        html += "<h4>" + html_escape(texts_.get("ranked")) + "</h4>\n" + draw(wide_layout(230, 400)) + draw(narrow_layout(50)) +
                data_table(texts_.get("ranked"), {texts_.get("col_answer"), texts_.get("col_share")}, cells, false);
    }
    if (q.months.empty()) return;

    // Heat map: choices × months, each cell the share of that month's answers.
    std::vector<int> months;
    {
        int k = q.months.begin()->first, last = q.months.rbegin()->first;
        for (; k <= last; k = (k % 100 == 12) ? (k / 100 + 1) * 100 + 1 : k + 1) months.push_back(k);
        if (months.size() > 24) months.erase(months.begin(), months.end() - 24);
    }
    if (months.size() < 2) return;
    Svg svg;
    const double x0 = 230, cw = std::min(40.0, (kWidth - x0 - 10) / months.size()), top = 22;
    for (std::size_t j = 0; j < months.size(); ++j) {
        const int m = months[j] % 100;
        svg.text(x0 + cw * j + cw / 2, 15, texts_.get("month_" + std::to_string(m)),
                 "middle", "small");
    }
    static const Bucket empty;
    // Shades run from white to the scale's blue, the most chosen cell darkest.
    double peak = 0;
    for (const auto& v : values)
        for (int k : months) {
            auto it = q.months.find(k);
            if (it != q.months.end() && it->second.n >= min)
                peak = std::max(peak, static_cast<double>(of(it->second, v)) / it->second.n);
        }
    for (std::size_t i = 0; i < values.size(); ++i) {
        const double y = top + i * kRow;
        svg.text(x0 - 8, y + 17, value_label(q, values[i]), "end");
        for (std::size_t j = 0; j < months.size(); ++j) {
            auto it = q.months.find(months[j]);
            const Bucket& b = it == q.months.end() ? empty : it->second;
            if (b.n < min) {
                svg.rect(x0 + cw * j + 1, y + 1, cw - 2, kRow - 2, "url(#hatch)");
                continue;
            }
            const double share = static_cast<double>(of(b, values[i])) / b.n;
            const double shade = peak > 0 ? share / peak : 0;
            auto mix = [&](int from, int to) { return static_cast<int>(std::lround(from + (to - from) * shade)); };
            char color[8];
            std::snprintf(color, sizeof color, "#%02x%02x%02x", mix(255, 0x45), mix(255, 0x75), mix(255, 0xb4));
            svg.rect(x0 + cw * j + 1, y + 1, cw - 2, kRow - 2, color);
            if (cw >= 30) svg.text(x0 + cw * j + cw / 2, y + 17, std::to_string(std::lround(share * 100)), "middle",
                                   shade > 0.55 ? "small light" : "small");
        }
    }
    svg.height = static_cast<int>(top + values.size() * kRow + 6);
    const std::string heading = texts_.get("by_month_heat");
    std::vector<std::string> head = {texts_.get("col_answer")};
    for (int k : months)
        head.push_back(texts_.fill("month_label", {{"month", texts_.get("month_" + std::to_string(k % 100))},
                                                   {"year", std::to_string(k / 100)}}));
    std::vector<std::vector<std::string>> cells;
    for (const auto& v : values) {
        std::vector<std::string> row = {value_label(q, v)};
        for (int k : months) {
            auto it = q.months.find(k);
            const Bucket& b = it == q.months.end() ? empty : it->second;
            row.push_back(b.n < min ? fewer() : percent(static_cast<double>(of(b, v)) / b.n));
        }
        cells.push_back(std::move(row));
    }
    html += "<h4>" + html_escape(heading) + "</h4>\n" + svg.done(heading, kWidth, "heat") + data_table(heading, head, cells, true) +
            "<p class=\"note\">" +
            html_escape(texts_.fill("heat_note", {{"n", std::to_string(options_.min_group)}})) + "</p>\n";
}

void ReportBuilder::render_texts(std::string& html, const QuestionStats& q) const {
    if (q.text_count < static_cast<std::uint64_t>(options_.min_group)) {
        html += "<p class=\"fewer\">" + html_escape(texts_.fill("texts_hidden", {{"n", std::to_string(options_.min_group)}})) + "</p>\n";
        return;
    }
    // Alphabetical, not in time order: a text cannot be matched to who was there when.
    // Identical texts are listed once, with how many gave them.
    const std::size_t listed = q.texts.size();
    html += "<h4>" + html_escape(texts_.get("texts")) + "</h4>\n" +
            text_list({q.texts.begin(), q.texts.end()},
                      [&](std::size_t n) { return texts_.fill("text_times", {{"n", std::to_string(n)}}); });
    if (q.text_count > listed)
        html += "<p class=\"note\">" + html_escape(texts_.fill("texts_more", {{"n", std::to_string(q.text_count - listed)}})) + "</p>\n";
}

void ReportBuilder::render_question(std::string& html, const QuestionStats& q) const {
    html += "<div class=\"question\">\n<h3>" +
            html_escape(q.def ? text(q.def->text, q.id) : texts_.fill("other_question", {{"id", q.id}})) + "</h3>\n";
    // Answers given with several versions of the survey: the versions, and each older text
    // of the question that differs from the heading.
    if (q.def && !q.versions.empty() && (q.versions.size() > 1 || q.versions.begin()->first != q.files_version)) {
        std::string list;
        for (const auto& [v, asked] : q.versions) list += (list.empty() ? "" : ", ") + std::to_string(v);
        html += "<p class=\"note\">" + html_escape(texts_.fill("in_versions", {{"v", list}}));
        const std::string heading = text(q.def->text, q.id);
        for (const auto& [v, asked] : q.versions)
            if (text(asked->text, q.id) != heading)
                html += "<br>" + html_escape(texts_.fill("version_text", {{"v", std::to_string(v)}, {"text", text(asked->text, q.id)}}));
        html += "</p>\n";
    }
    html += "<p class=\"n\">" + html_escape(texts_.fill("answers_n", {{"n", count(q.total.n)}})) + "</p>\n";
    if (q.total.n < static_cast<std::uint64_t>(options_.min_group)) {
        html += "</div>\n";
        return;
    }
    if (!q.def) {
        // Not in the survey files: ranked values when they are ids, else the texts.
        if (!q.all_ids) render_texts(html, q);
        else if (q.total.values.count(kMany))
            html += "<p class=\"note\">" + html_escape(texts_.get("many_values")) + "</p>\n";
        else render_ranked(html, q, {});
        html += "</div>\n";
        return;
    }
    switch (q.def->kind) {
        case QuestionKind::Smiley: render_scale(html, q, allowed_values(q), true); break;
        case QuestionKind::Agree: render_scale(html, q, allowed_values(q), false); break;
        case QuestionKind::Picture:
        case QuestionKind::Choice: render_ranked(html, q, allowed_values(q)); break;
        case QuestionKind::Text: render_texts(html, q); break;
    }
    html += "</div>\n";
}

std::string ReportBuilder::count_svg(const std::string& title,
                                     const std::vector<std::pair<std::string, std::uint64_t>>& rows,
                                     double x0) const {
    const auto min = static_cast<std::uint64_t>(options_.min_group);
    std::uint64_t top = 1;
    for (const auto& r : rows) top = std::max(top, r.second);
  auto draw = [&](const Layout& L) {
    Svg svg;
    const double w = L.bar_w;
    const double x0 = L.bar_x;
    for (const auto& [label, n] : rows) {
        const double y = svg.height + L.bar_dy - 3;
        svg.text(L.label_x, svg.height + L.label_dy, label, L.anchor);
        if (n > 0 && n < min) {
            svg.rect(x0, y + 3, 60, kRow - 6, "url(#hatch)");
            svg.text(x0 + 66, y + 17, fewer(), "start", "fewer");
        } else {
            const double bw = w * static_cast<double>(n) / static_cast<double>(top);
            if (n > 0) svg.rect(x0, y + 3, bw, kRow - 6, "#91bfdb");
            svg.text(x0 + bw + 6, y + 17, std::to_string(n), "start", "n");
        }
        svg.height += L.row;
    }
    return svg.done(title, L.width, L.cls);
  };
    std::vector<std::vector<std::string>> cells;
    for (const auto& [label, n] : rows) cells.push_back({label, n > 0 ? count(n) : "0"});
    return draw(wide_layout(x0, kWidth - x0 - 90)) + draw(narrow_layout(90)) +
           data_table(title, {title, texts_.get("col_count")}, cells, false);
}

// The year-clock: what families wished for which month (a heat map of counts: the month is
// the one they wished for, not the day they visited), which events they will come to, and
// their own ideas for each month.
void ReportBuilder::render_yearclock(std::string& html, const SurveyStats& s) const {
    const auto min = static_cast<std::uint64_t>(options_.min_group);
    const YearClockStats& y = s.yearclock;
    const YearClock* def = s.def && s.def->yearclock ? &*s.def->yearclock : nullptr;
    auto month_name = [&](int m) { return ui_.get(texts_.lang(), "month_" + std::to_string(m)); };

    // Wishes: activities (the file's order, then any only the data has) × January..December.
    if (y.wish_visits > 0) {
        std::vector<std::pair<std::string, std::string>> rows;  // id, label
        if (def)
            for (const auto& a : def->activities) rows.emplace_back(a.id, prefix(a.icon) + text(a.text, a.id));
        for (const auto& id : y.activities)
            if (std::none_of(rows.begin(), rows.end(), [&](const auto& r) { return r.first == id; }))
                rows.emplace_back(id, id);
        static const std::array<std::uint64_t, 12> none{};
        auto of = [&](const std::string& id) -> const std::array<std::uint64_t, 12>& {
            auto it = y.wishes.find(id);
            return it == y.wishes.end() ? none : it->second;
        };
        std::uint64_t peak = 0;  // the most wished cell that is shown
        for (const auto& [id, _] : rows)
            for (std::uint64_t n : of(id))
                if (n >= min) peak = std::max(peak, n);

        Svg svg;
        const double x0 = 200, cw = (kWidth - x0 - 4) / 12.0, top = 22;
        for (int m = 1; m <= 12; ++m)
            svg.text(x0 + cw * (m - 1) + cw / 2, 15, texts_.get("month_" + std::to_string(m)), "middle", "small");
        const std::string fewer_short = texts_.fill("fewer_short", {{"n", std::to_string(options_.min_group)}});
        for (std::size_t i = 0; i < rows.size(); ++i) {
            const double ry = top + static_cast<double>(i) * kRow;
            svg.text(x0 - 8, ry + 17, rows[i].second, "end");
            const auto& counts = of(rows[i].first);
            for (int m = 1; m <= 12; ++m) {
                const std::uint64_t n = counts[static_cast<std::size_t>(m - 1)];
                const double x = x0 + cw * (m - 1);
                // Each cell says what it is when pointed at (a tooltip), in the same words.
                svg.body += "<g><title>" +
                            html_escape(texts_.fill("yc_cell", {{"activity", rows[i].second}, {"month", month_name(m)},
                                                        {"n", n > 0 && n < min ? fewer() : std::to_string(n)}})) +
                            "</title>";
                if (n == 0) {
                    svg.rect(x + 1, ry + 1, cw - 2, kRow - 2, "#f4f4f4");
                } else if (n < min) {
                    svg.rect(x + 1, ry + 1, cw - 2, kRow - 2, "url(#hatch)");
                    svg.text(x + cw / 2, ry + 17, fewer_short, "middle", "small fewer");
                } else {
                    // From a light blue (the fewest shown) to the scale's blue (the most).
                    const double shade = 0.2 + 0.8 * static_cast<double>(n) / static_cast<double>(peak);
                    auto mix = [&](int from, int to) { return static_cast<int>(std::lround(from + (to - from) * shade)); };
                    char color[8];
                    std::snprintf(color, sizeof color, "#%02x%02x%02x", mix(255, 0x45), mix(255, 0x75), mix(255, 0xb4));
                    svg.rect(x + 1, ry + 1, cw - 2, kRow - 2, color);
                    svg.text(x + cw / 2, ry + 17, std::to_string(n), "middle", shade > 0.55 ? "light" : "");
                }
                svg.body += "</g>";
            }
        }
        svg.height = static_cast<int>(top + static_cast<double>(rows.size()) * kRow + 6);
        const std::string heading = texts_.get("yc_wishes");
        std::vector<std::string> head = {texts_.get("col_answer")};
        for (int m = 1; m <= 12; ++m) head.push_back(month_name(m));
        std::vector<std::vector<std::string>> cells;
        for (const auto& [id, label] : rows) {
            std::vector<std::string> row = {label};
            for (std::uint64_t n : of(id)) row.push_back(n > 0 && n < min ? fewer() : std::to_string(n));
            cells.push_back(std::move(row));
        }
        html += "<div class=\"question\">\n<h3>" + html_escape(heading) + "</h3>\n<p class=\"n\">" +
                html_escape(texts_.fill("yc_wish_visits", {{"n", count(y.wish_visits)}})) + "</p>\n" +
                svg.done(heading, kWidth, "heat") + data_table(heading, head, cells, true) +
                "<p class=\"note\">" +
                html_escape(texts_.fill("yc_heat_note", {{"n", std::to_string(options_.min_group)}, {"short", fewer_short}})) +
                "</p>\n</div>\n";
    }

    // "We'll come": the events in date order (then any only the data has), those tapped.
    if (y.come_visits > 0) {
        std::vector<std::pair<std::string, std::uint64_t>> rows;
        std::vector<std::string> done;
        auto count_of = [&](const std::string& id) {
            auto it = y.come.find(id);
            return it == y.come.end() ? std::uint64_t{0} : it->second;
        };
        if (def)
            for (const auto& e : def->events)
                if (const std::uint64_t n = count_of(e.id)) {
                    rows.emplace_back(prefix(e.icon) + text(e.text, e.id) + " · " +
                                          date(std::stoi(e.date.substr(0, 4)), std::stoi(e.date.substr(5, 2)),
                                               std::stoi(e.date.substr(8, 2))),
                                      n);
                    done.push_back(e.id);
                }
        for (const auto& id : y.events)
            if (std::find(done.begin(), done.end(), id) == done.end()) rows.emplace_back(id, count_of(id));
        const std::string heading = texts_.get("yc_come");
        html += "<div class=\"question\">\n<h3>" + html_escape(heading) + "</h3>\n<p class=\"n\">" +
                html_escape(texts_.fill("yc_come_visits", {{"n", count(y.come_visits)}})) + "</p>\n" +
                count_svg(heading, rows, 360) + "</div>\n";
    }
    if (y.many) html += "<p class=\"note\">" + html_escape(texts_.get("many_values")) + "</p>\n";

    // Ideas, month by month; listed only when there are at least min_group of them.
    std::uint64_t ideas = 0;
    for (auto n : y.idea_count) ideas += n;
    if (ideas == 0) return;
    html += "<div class=\"question\">\n<h3>" + html_escape(texts_.get("yc_ideas")) + "</h3>\n<p class=\"n\">" +
            html_escape(texts_.fill("answers_n", {{"n", count(ideas)}})) + "</p>\n";
    if (ideas < min) {
        html += "<p class=\"fewer\">" + html_escape(texts_.fill("texts_hidden", {{"n", std::to_string(options_.min_group)}})) +
                "</p>\n</div>\n";
        return;
    }
    for (int m = 1; m <= 12; ++m) {
        const auto& list = y.ideas[static_cast<std::size_t>(m - 1)];
        if (list.empty()) continue;
        std::string heading = month_name(m);
        if (def && !text(def->month(m).theme, "").empty())
            heading += " – " + prefix(def->month(m).icon) + text(def->month(m).theme, "");
        // Alphabetical, not in time order: a text cannot be matched to who was there when;
        // identical ones once, with their count.
        html += "<h4>" + html_escape(heading) + "</h4>\n" +
                text_list({list.begin(), list.end()},
                          [&](std::size_t n) { return texts_.fill("text_times", {{"n", std::to_string(n)}}); });
        const std::uint64_t more = y.idea_count[static_cast<std::size_t>(m - 1)] - list.size();
        if (more) html += "<p class=\"note\">" + html_escape(texts_.fill("texts_more", {{"n", std::to_string(more)}})) + "</p>\n";
    }
    html += "</div>\n";
}

// ---------------------------------------------------------------------------------------
// The page

static const char* kStyle = R"css(
@page { size: A4; margin: 14mm 12mm; }
* { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body { font-family: "DejaVu Sans", "Noto Sans", system-ui, sans-serif; color: #1d1d1f; max-width: 780px;
       margin: 24px auto; padding: 0 16px; line-height: 1.4; font-size: 14px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 20px; margin: 28px 0 4px; border-bottom: 2px solid #4575b4; padding-bottom: 2px; }
h3 { font-size: 16px; margin: 18px 0 0; }
h4 { font-size: 13px; margin: 10px 0 2px; color: #444; font-weight: normal; text-transform: uppercase; letter-spacing: .04em; }
p { margin: 4px 0; }
.meta, .n, .note { color: #555; }
.note { font-size: 12px; }
.fewer { color: #666; font-style: italic; }
.tiles { display: flex; flex-wrap: wrap; gap: 10px; margin: 14px 0 6px; }
.tile { border: 1px solid #c9d3e3; border-radius: 8px; padding: 8px 14px; min-width: 140px; background: #f5f8fc; }
.tile b { display: block; font-size: 24px; }
.privacy { border-left: 4px solid #fee090; background: #fffbea; padding: 6px 10px; font-size: 13px; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 14px; font-size: 12px; margin: 6px 0 0; }
.legend i { display: inline-block; width: 12px; height: 12px; margin-right: 5px; vertical-align: -1px; border-radius: 2px; }
svg, .tiles, .legend { break-inside: avoid; }
h3, h4, .legend, .question > p.n { break-after: avoid; }
svg { display: block; width: 100%; height: auto; }
svg text { font-size: 12px; fill: #1d1d1f; }
svg text.in { font-size: 11px; }
svg text.light { fill: #fff; }
svg text.fewer { font-style: italic; fill: #555; }
svg text.n { fill: #555; }
svg text.small { font-size: 10px; }
ul.texts { columns: 2; column-gap: 24px; padding-left: 18px; }
ul.texts li { break-inside: avoid; margin-bottom: 4px; }
svg.narrow { display: none; }
ul.texts .times { color: #555; white-space: nowrap; }
.sr, .table.heat { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
.table.heat:focus { position: static; width: auto; height: auto; overflow: auto; clip: auto; white-space: normal; }
.table table { border-collapse: collapse; font-size: 12px; margin: 4px 0 8px; }
.table th, .table td { border: 1px solid #d0d0d0; padding: 3px 6px; text-align: left; vertical-align: top; }
.table td { text-align: right; font-variant-numeric: tabular-nums; }
.table caption { text-align: left; font-size: 12px; color: #555; }
/* A phone: bar charts in their narrow layout (labels above the bars), heat maps as tables. */
@media screen and (max-width: 600px) {
  body { margin: 12px auto; padding: 0 12px; }
  svg.wide, svg.heat { display: none; }
  svg.narrow { display: block; }
  .table.heat { position: static; width: auto; height: auto; overflow-x: auto; clip: auto; white-space: normal; }
  .table.heat table { font-size: 13px; }
  ul.texts { columns: 1; }
  .tile { min-width: 0; flex: 1 1 40%; }
}
footer { margin-top: 28px; border-top: 1px solid #ccc; padding-top: 6px; font-size: 11px; color: #666; }
@media print { body { margin: 0; max-width: none; padding: 0; } h2 { break-after: avoid; } }
)css";

void ReportBuilder::render(AtomicFile& out) const {
    const auto min = static_cast<std::uint64_t>(options_.min_group);
    const std::string lang = texts_.lang();
    std::string html;
    html.reserve(64 * 1024);
    html += "<!DOCTYPE html>\n<html lang=\"" + html_escape(lang) + "\">\n<head>\n<meta charset=\"utf-8\"/>\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n<title>" +
            html_escape(texts_.get("title")) + "</title>\n<style>" + kStyle + "</style>\n</head>\n<body>\n";
    // Shared definitions for every chart: the hatch of a hidden bar.
    html += "<svg width=\"0\" height=\"0\" style=\"position:absolute\" aria-hidden=\"true\"><defs>"
            "<pattern id=\"hatch\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\">"
            "<rect width=\"6\" height=\"6\" fill=\"#eeeeee\"/><line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"#c8c8c8\" "
            "stroke-width=\"3\"/></pattern></defs></svg>\n";

    // Header: what this covers.
    std::string period;
    auto date_of = [&](const std::string& ymd) {
        return date(std::stoi(ymd.substr(0, 4)), std::stoi(ymd.substr(5, 2)), std::stoi(ymd.substr(8, 2)));
    };
    if (options_.filter.from || options_.filter.to)
        period = (options_.filter.from ? date_of(*options_.filter.from) : std::string()) + " – " +
                 (options_.filter.to ? date_of(*options_.filter.to) : std::string());
    else if (first_)
        period = date(first_->year, first_->month, first_->day) + " – " + date(last_->year, last_->month, last_->day);
    std::string sites;
    for (const auto& s : options_.filter.sites) sites += (sites.empty() ? "" : ", ") + site_name(s);
    if (sites.empty()) sites = texts_.get("all_sites");
    const LocalParts now = local_parts(options_.now_ms);
    html += "<header>\n<h1>" + html_escape(texts_.get("title")) + "</h1>\n<p class=\"meta\">" + html_escape(texts_.get("period")) +
            ": <b>" + html_escape(period) + "</b> · " + html_escape(texts_.get("sites")) + ": <b>" + html_escape(sites) + "</b> · " +
            html_escape(texts_.get("generated")) + " " + html_escape(date(now.year, now.month, now.day)) + " " + two(now.hour) + ":" +
            two(now.minute) + "</p>\n</header>\n";

    // Summary.
    html += "<section class=\"tiles\">\n";
    auto tile = [&](const std::string& label, const std::string& value) {
        html += "<div class=\"tile\"><b>" + html_escape(value) + "</b>" + html_escape(label) + "</div>\n";
    };
    tile(texts_.get("responses"), count(responses_));
    const std::uint64_t finished = status_.complete + status_.abandoned;
    tile(texts_.get("completion_rate"),
         finished < min ? fewer() : percent(static_cast<double>(status_.complete) / static_cast<double>(finished)));
    tile(texts_.get("abandoned"), count(status_.abandoned));
    if (status_.flagged) tile(texts_.get(options_.filter.include_flagged ? "flagged_in" : "flagged_out"), count(status_.flagged));
    html += "</section>\n<p class=\"privacy\">" + html_escape(texts_.fill("privacy_note", {{"n", std::to_string(options_.min_group)}})) +
            (options_.filter.free_text ? std::string() : " " + html_escape(texts_.get("free_text_left_out"))) + "</p>\n";

    if (responses_ == 0) html += "<p class=\"fewer\">" + html_escape(texts_.get("no_responses")) + "</p>\n";

    // One section per survey: the survey files' order, then any other the data holds.
    std::vector<const SurveyStats*> order;
    for (const auto& d : surveys_)
        for (const auto& s : stats_)
            if (s.id == d.id) order.push_back(&s);
    for (const auto& s : stats_)
        if (std::none_of(surveys_.begin(), surveys_.end(), [&](const Survey& d) { return d.id == s.id; }))
            order.push_back(&s);
    for (const SurveyStats* s : order) {
        html += "<section class=\"survey\" id=\"survey-" + html_escape(s->id) + "\">\n<h2>" +
                html_escape(s->def ? prefix(s->def->icon) + text(s->def->title, s->id) : s->id) + "</h2>\n";
        html += "<p class=\"n\">" + html_escape(texts_.fill("responses_n", {{"n", count(s->responses)}})) + "</p>\n";
        if (s->responses >= min) {
            if (s->is_yearclock) render_yearclock(html, *s);
            for (const auto& q : s->questions)
                if (q.total.n > 0 && !(s->is_yearclock && q.id == "come")) render_question(html, q);
        }
        html += "</section>\n";
    }

    // Who answered, and when: counts, each under min_group shown as "fewer than N".
    auto count_chart = [&](const std::string& heading, const std::vector<std::pair<std::string, std::uint64_t>>& rows) {
        html += "<section>\n<h2>" + html_escape(heading) + "</h2>\n" + count_svg(heading, rows, 230) + "</section>\n";
    };
    if (responses_ > 0) {
        std::vector<std::pair<std::string, std::uint64_t>> rows;
        for (const auto& [code, n] : languages_) {
            const std::string& name = texts_.get("lang_" + code);
            rows.emplace_back(name.front() == '[' ? code : name, n);
        }
        count_chart(texts_.get("languages"), rows);
        rows.clear();
        for (std::size_t i = 0; i < bands_.size(); ++i) rows.emplace_back(texts_.get("band_" + std::to_string(i)), bands_[i]);
        count_chart(texts_.get("time_of_day"), rows);
        if (sites_.size() > 1) {
            rows.clear();
            for (const auto& [id, n] : sites_) rows.emplace_back(site_name(id), n);
            count_chart(texts_.get("sites_heading"), rows);
        }
    }
    html += "<footer>" + html_escape(texts_.get("footer")) + "</footer>\n</body>\n</html>\n";
    out.write(html);
}

}  // namespace kohtaamo
