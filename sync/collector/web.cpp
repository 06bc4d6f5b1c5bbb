// web.cpp — the coordinators' web page (web.hpp): routing, sessions, the pages' HTML.
#include "web.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <map>
#include <set>

#include <nlohmann/json.hpp>
#include <sodium.h>

#include "clock.hpp"
#include "local_time.hpp"
#include "protocol.hpp"
#include "export.hpp"
#include "toml_reader.hpp"

namespace kohtaamo::sync {

namespace {

std::int64_t now_ms() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

// --- texts -------------------------------------------------------------------------------
// The page's strings in fi, sv and en (the kiosk keeps its texts in catalogues; the web
// page is small enough for one table). {n} is filled in by fill().
enum class Lang { Fi, Sv, En };
struct Text {
    const char* key;
    const char* fi;
    const char* sv;
    const char* en;
};
constexpr Text kTexts[] = {
    {"title", "Kohtaamo – keruupalvelin", "Kohtaamo – insamlingsserver", "Kohtaamo – collector"},
    {"skip", "Siirry sisältöön", "Hoppa till innehållet", "Skip to content"},
    {"login", "Kirjaudu sisään", "Logga in", "Log in"},
    {"name", "Käyttäjätunnus", "Användarnamn", "User name"},
    {"password", "Salasana", "Lösenord", "Password"},
    {"wrong", "Väärä tunnus tai salasana.", "Fel användarnamn eller lösenord.", "Wrong user name or password."},
    {"locked", "Liian monta väärää salasanaa: tunnus on lukittu klo {n} asti.",
     "För många fel lösenord: kontot är låst till kl. {n}.", "Too many wrong passwords: the account is locked until {n}."},
    {"csrf", "Lomake vanhentui tai se ei tullut tältä sivulta. Lataa sivu uudelleen ja yritä uudestaan.",
     "Formuläret har gått ut eller kom inte från den här sidan. Ladda om sidan och försök igen.",
     "The form expired or did not come from this page. Reload the page and try again."},
    {"logout", "Kirjaudu ulos", "Logga ut", "Log out"},
    {"nav", "Päävalikko", "Huvudmeny", "Main menu"},
    {"fleet", "Kioskit", "Kiosker", "Kiosks"},
    {"counts", "Vastausmäärät", "Antal svar", "Counts"},
    {"exports", "Raportti ja tiedostot", "Rapport och filer", "Report and files"},
    {"language", "Kieli", "Språk", "Language"},
    {"kiosk", "Kioski", "Kiosk", "Kiosk"},
    {"site", "Kohtaamispaikka", "Mötesplats", "Site"},
    {"sites", "Kohtaamispaikat", "Mötesplatser", "Sites"},
    {"state", "Tila", "Status", "State"},
    {"silent", "Hiljaa", "Tyst", "Silent"},
    {"ok", "Kunnossa", "OK", "OK"},
    {"all", "Kaikki", "Alla", "All"},
    {"show", "Näytä", "Visa", "Show"},
    {"heard", "Kuultu viimeksi", "Senast hörd", "Last heard"},
    {"pending", "Lähettämättä", "Osända", "Unsent"},
    {"oldest", "Vanhin odottanut", "Äldsta väntat", "Oldest waiting"},
    {"app", "Sovellus", "Program", "App"},
    {"bundle", "Kyselypaketti", "Enkätpaket", "Bundle"},
    {"disk", "Vapaa levytila", "Ledigt diskutrymme", "Free disk"},
    {"error", "Viimeisin virhe", "Senaste fel", "Last error"},
    {"none", "–", "–", "–"},
    {"installed", "asennettu", "installerat", "installed"},
    {"no_health", "ei tilatietoja", "ingen statusinfo", "no health report"},
    {"ago", "{n} sitten", "för {n} sedan", "{n} ago"},
    {"fleet_summary", "{n}", "{n}", "{n}"},
    {"kiosks_silent", "{k} kioskia, joista {s} hiljaa", "{k} kiosker, varav {s} tysta", "{k} kiosks, {s} silent"},
    {"no_kiosks", "Ei kioskeja näillä ehdoilla.", "Inga kiosker med dessa villkor.", "No kiosks match."},
    {"silent_rule", "Kioski on hiljaa, kun siitä ei ole kuulunut {n} minuuttiin kohtaamispaikan aukioloaikana.",
     "En kiosk är tyst när den inte hörts av på {n} minuter under mötesplatsens öppettider.",
     "A kiosk is silent when it has not been heard from for {n} minutes of its site's expected hours."},
    {"hours", "Aukioloaika", "Öppettider", "Expected hours"},
    {"always", "aina", "alltid", "always"},
    {"by", "Jakso", "Period", "Period"},
    {"week", "Viikoittain", "Per vecka", "By week"},
    {"day", "Päivittäin", "Per dag", "By day"},
    {"survey", "Kysely", "Enkät", "Survey"},
    {"responses", "Vastauksia", "Svar", "Responses"},
    {"no_counts", "Ei vastauksia.", "Inga svar.", "No responses."},
    {"fewer", "alle {n}", "färre än {n}", "fewer than {n}"},
    {"counts_note", "Valmiit vastaukset, ei merkittyjä. Alle {n} vastauksen määriä ei näytetä.",
     "Kompletta svar, inte flaggade. Antal under {n} visas inte.",
     "Complete responses, not flagged. Counts under {n} are not shown."},
    {"format", "Muoto", "Format", "Format"},
    {"f_report", "Raportti (HTML)", "Rapport (HTML)", "Report (HTML)"},
    {"f_xlsx", "Excel-työkirja (XLSX)", "Excel-arbetsbok (XLSX)", "Excel workbook (XLSX)"},
    {"f_long", "CSV, pitkä (rivi vastausta kohden)", "CSV, lång (en rad per svar)", "CSV, long (a row per answer)"},
    {"f_wide", "CSV, leveä (rivi vastaajaa kohden, yksi kysely)", "CSV, bred (en rad per svarare, en enkät)",
     "CSV, wide (a row per response, one survey)"},
    {"f_jsonl", "JSON Lines", "JSON Lines", "JSON Lines"},
    {"period", "Aikaväli", "Tidsperiod", "Period"},
    {"from", "Alkaen", "Från", "From"},
    {"to", "Asti", "Till", "To"},
    {"half_year", "Tai puolivuotiskausi (esim. 2026H1)", "Eller halvår (t.ex. 2026H1)", "Or half-year (e.g. 2026H1)"},
    {"options", "Valinnat", "Val", "Options"},
    {"abandoned", "Myös keskeytetyt vastaukset", "Även avbrutna svar", "Include abandoned responses"},
    {"flagged", "Myös merkityt vastaukset", "Även flaggade svar", "Include flagged responses"},
    {"no_free_text", "Ilman vapaita tekstejä", "Utan fritext", "Without free text"},
    {"excel", "CSV suomalaiselle Excelille (; ja ,)", "CSV för finländsk Excel (; och ,)",
     "CSV for Excel with Finnish settings (; and ,)"},
    {"all_sites_note", "Ei valintaa: kaikki kohtaamispaikat, jotka saat nähdä.",
     "Inget val: alla mötesplatser du får se.", "None ticked: every site you may see."},
    {"all_surveys", "Kaikki kyselyt", "Alla enkäter", "All surveys"},
    {"download", "Lataa", "Ladda ner", "Download"},
    {"view", "Avaa raportti selaimessa", "Öppna rapporten i webbläsaren", "Open the report in the browser"},
    {"exports_note", "Samat suodattimet kuin GET /v1/export. Alle {n} vastauksen ryhmiä ei näytetä.",
     "Samma filter som GET /v1/export. Grupper under {n} svar visas inte.",
     "The same filters as GET /v1/export. Groups of fewer than {n} answers are not shown."},
    {"limited", "Näet vain nämä kohtaamispaikat: {n}", "Du ser bara dessa mötesplatser: {n}",
     "You see these sites only: {n}"},
    {"forbidden_site", "Tällä tunnuksella ei näe tätä kohtaamispaikkaa.", "Det här kontot får inte se den mötesplatsen.",
     "This account may not see that site."},
    {"not_found", "Sivua ei ole.", "Sidan finns inte.", "No such page."},
    {"min", "{n} min", "{n} min", "{n} min"},
    {"hours_n", "{n} t", "{n} h", "{n} h"},
    {"days_n", "{n} pv", "{n} d", "{n} d"},
    {"signed_in", "Kirjautuneena: {n}", "Inloggad: {n}", "Signed in: {n}"},
};

std::string text(Lang lang, std::string_view key) {
    for (const Text& t : kTexts)
        if (key == t.key) return lang == Lang::Fi ? t.fi : lang == Lang::Sv ? t.sv : t.en;
    return std::string(key);
}

std::string replace_all(std::string s, std::string_view what, const std::string& with) {
    for (std::size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + with.size()))
        s.replace(at, what.size(), with);
    return s;
}

std::string fill(Lang lang, std::string_view key, const std::string& n) { return replace_all(text(lang, key), "{n}", n); }

const char* lang_code(Lang l) { return l == Lang::Fi ? "fi" : l == Lang::Sv ? "sv" : "en"; }

std::optional<Lang> lang_of(std::string_view code) {
    if (code.size() >= 2) {
        const std::string two{static_cast<char>(std::tolower(static_cast<unsigned char>(code[0]))),
                              static_cast<char>(std::tolower(static_cast<unsigned char>(code[1])))};
        if (code.size() == 2 || code[2] == '-' || code[2] == '_') {
            if (two == "fi") return Lang::Fi;
            if (two == "sv") return Lang::Sv;
            if (two == "en") return Lang::En;
        }
    }
    return std::nullopt;
}

// --- HTML and forms ----------------------------------------------------------------------

std::string url_encode(std::string_view s) {
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    for (char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
            out += ch;
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// application/x-www-form-urlencoded
std::vector<std::pair<std::string, std::string>> parse_form(std::string_view body) {
    std::vector<std::pair<std::string, std::string>> out;
    auto decode = [](std::string_view s) {
        std::string d;
        for (std::size_t i = 0; i < s.size(); ++i) {
            if (s[i] == '+') {
                d += ' ';
            } else if (s[i] == '%' && i + 2 < s.size() + 0 && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
                d += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
                i += 2;
            } else {
                d += s[i];
            }
        }
        return d;
    };
    while (!body.empty()) {
        const auto amp = body.find('&');
        const std::string_view pair = body.substr(0, amp);
        if (!pair.empty()) {
            const auto eq = pair.find('=');
            out.emplace_back(decode(pair.substr(0, eq)),
                             eq == std::string_view::npos ? std::string() : decode(pair.substr(eq + 1)));
        }
        if (amp == std::string_view::npos) break;
        body.remove_prefix(amp + 1);
    }
    return out;
}

std::string value_of(const std::vector<std::pair<std::string, std::string>>& params, std::string_view key) {
    for (const auto& [k, v] : params)
        if (k == key) return v;
    return "";
}

std::string cookie(const http::Request& req, std::string_view name) {
    for (const auto& [k, v] : req.headers) {
        if (k != "cookie") continue;
        std::string_view rest = v;
        while (!rest.empty()) {
            const auto semi = rest.find(';');
            std::string_view item = rest.substr(0, semi);
            while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
            const auto eq = item.find('=');
            if (eq != std::string_view::npos && item.substr(0, eq) == name) return std::string(item.substr(eq + 1));
            if (semi == std::string_view::npos) break;
            rest.remove_prefix(semi + 1);
        }
    }
    return "";
}

bool same_secret(const std::string& a, const std::string& b) {
    return !a.empty() && a.size() == b.size() && sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string two(int v) { return (v < 10 ? "0" : "") + std::to_string(v); }

std::string local_time_text(std::int64_t ms) {
    const LocalParts p = local_parts(ms);
    return std::to_string(p.year) + "-" + two(p.month) + "-" + two(p.day) + " " + two(p.hour) + ":" + two(p.minute);
}

std::string age_text(Lang lang, std::int64_t seconds) {
    if (seconds < 0) seconds = 0;
    if (seconds < 3600) return fill(lang, "min", std::to_string(seconds / 60));
    if (seconds < 48 * 3600) return fill(lang, "hours_n", std::to_string(seconds / 3600));
    return fill(lang, "days_n", std::to_string(seconds / 86400));
}

std::string bytes_text(std::int64_t bytes) {
    const char* units[] = {"B", "KB", "MB", "GB", "TB"};
    double v = static_cast<double>(bytes);
    int u = 0;
    while (v >= 1000 && u < 4) {
        v /= 1000;
        ++u;
    }
    char buf[32];
    std::snprintf(buf, sizeof buf, u == 0 || v >= 100 ? "%.0f %s" : "%.1f %s", v, units[u]);
    return buf;
}

// The page's look: readable on a 390 px phone (tables turn into cards), high contrast,
// visible focus, no scripts, nothing fetched.
constexpr const char* kStyle = R"css(
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:#1a1a1a;background:#f6f6f4}
a{color:#0b4f8a}
a:focus,button:focus,input:focus,select:focus{outline:3px solid #c25400;outline-offset:2px}
.skip{position:absolute;left:-999px}.skip:focus{left:8px;top:8px;background:#fff;padding:4px 8px;z-index:2}
header{background:#12355b;color:#fff;padding:8px 16px;display:flex;flex-wrap:wrap;gap:8px 24px;align-items:center}
header a{color:#fff}
header .brand{font-weight:700;font-size:1.1em}
header nav ul{list-style:none;margin:0;padding:0;display:flex;flex-wrap:wrap;gap:4px 16px}
header nav a[aria-current=page]{font-weight:700;text-decoration-thickness:3px}
header .tools{margin-left:auto;display:flex;flex-wrap:wrap;gap:4px 12px;align-items:center}
header form{margin:0}
header button{background:#fff;color:#12355b;border:0;border-radius:4px;padding:4px 10px;font:inherit;cursor:pointer}
.langs a{padding:0 4px}
main{max-width:1200px;margin:0 auto;padding:16px}
h1{font-size:1.5em;margin:8px 0 12px}
.note{color:#444}
.box{background:#fff;border:1px solid #d6d6d0;border-radius:6px;padding:12px 16px;margin:0 0 16px}
form.filters{display:flex;flex-wrap:wrap;gap:8px 16px;align-items:flex-end}
form.filters p{margin:0}
label{display:block;font-weight:600}
input[type=text],input[type=password],input[type=date],select{font:inherit;padding:6px 8px;border:1px solid #767676;border-radius:4px;background:#fff;min-width:10em;max-width:100%}
button.primary,input[type=submit]{font:inherit;background:#12355b;color:#fff;border:0;border-radius:4px;padding:8px 16px;cursor:pointer}
fieldset{border:1px solid #d6d6d0;border-radius:6px;margin:0 0 12px;padding:8px 12px}
legend{font-weight:700;padding:0 4px}
fieldset label{font-weight:400;display:flex;gap:8px;align-items:center;margin:4px 0}
.error{background:#fde8e8;border:1px solid #b00020;color:#7a0016;padding:8px 12px;border-radius:4px}
table{border-collapse:collapse;width:100%;background:#fff}
th,td{text-align:left;padding:6px 8px;border-bottom:1px solid #e2e2dc;vertical-align:top}
th{background:#eceae4}
td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.silent td{background:#fff1e6}
.badge{display:inline-block;padding:0 8px;border-radius:10px;font-weight:700;font-size:.9em;white-space:nowrap}
.badge.silent{background:#b3261e;color:#fff}
.badge.ok{background:#1b6e3a;color:#fff}
.sr{position:absolute;left:-9999px}
.login{max-width:420px;margin:32px auto}
.login input{width:100%}
@media (max-width:700px){
 main{padding:8px}
 table.cards thead{position:absolute;left:-9999px}
 table.cards,table.cards tbody,table.cards tr,table.cards td{display:block;width:100%}
 table.cards tr{border:1px solid #d6d6d0;border-radius:6px;margin:0 0 10px;background:#fff}
 table.cards td{border:0;border-bottom:1px solid #eee;display:flex;gap:8px;justify-content:space-between;text-align:right}
 table.cards td::before{content:attr(data-label);font-weight:600;text-align:left}
 table.cards th[scope=row]{display:block;width:100%;border-radius:6px 6px 0 0}
 table.cards td.num{text-align:right}
 header .tools{margin-left:0}
}
)css";

struct Account {
    std::string name;
    std::vector<std::string> sites;  // empty: all
    std::string csrf;
    std::string session_hash;
    bool may_see(const std::string& site) const {
        return sites.empty() || std::find(sites.begin(), sites.end(), site) != sites.end();
    }
};

}  // namespace

std::string hash_password(const std::string& password) {
    if (sodium_init() < 0) throw std::runtime_error("libsodium cannot initialise");
    char out[crypto_pwhash_STRBYTES];
    if (crypto_pwhash_str_alg(out, password.data(), password.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                              crypto_pwhash_MEMLIMIT_INTERACTIVE, crypto_pwhash_ALG_ARGON2ID13) != 0)
        throw std::runtime_error("hashing the password ran out of memory");
    return out;
}

struct Web::Impl {
    const CollectorConfig& config;
    Storage& storage;
    WebExporter exporter;
    WebLog log;
    std::string prefix;
    std::string dummy_hash;  // verified against for unknown names, so they take as long

    Impl(const CollectorConfig& c, Storage& s, WebExporter e, WebLog l)
        : config(c), storage(s), exporter(std::move(e)), log(std::move(l)), prefix(c.web.prefix) {}

    // The page's name ("" for the prefix itself), or nullopt. Served under the prefix, and
    // at the top too, for a proxy that strips the prefix (proxy_pass http://…/;); every
    // link is relative, so either works.
    std::optional<std::string> page_of(const std::string& path) const {
        if (path.size() + 1 == prefix.size() && prefix.compare(0, path.size(), path) == 0) return std::string();
        std::string page;
        if (path.rfind(prefix, 0) == 0) page = path.substr(prefix.size());
        else if (!path.empty() && path[0] == '/') page = path.substr(1);
        else return std::nullopt;
        static const std::set<std::string> pages = {"", "login", "logout", "fleet", "counts", "exports", "download", "report"};
        if (!pages.count(page)) return std::nullopt;
        return page;
    }

    std::string site_name(const std::string& id) const {
        if (const SiteSettings* s = config.site(id)) return s->name;
        return id.empty() ? "–" : id;
    }

    Lang lang_for(const http::Request& req, bool& chosen) const {
        chosen = false;
        for (const auto& [k, v] : req.query)
            if (k == "lang")
                if (auto l = lang_of(v); l && v.size() == 2) {
                    chosen = true;
                    return *l;
                }
        if (auto l = lang_of(cookie(req, "kohtaamo_lang")); l) return *l;
        // Accept-Language: the first of fi, sv, en by the client's order (q= ignored but for q=0)
        const std::string accept = req.header("accept-language");
        std::string_view rest = accept;
        while (!rest.empty()) {
            const auto comma = rest.find(',');
            std::string_view item = rest.substr(0, comma);
            while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
            const bool zero = item.find("q=0") != std::string_view::npos && item.find("q=0.") == std::string_view::npos;
            if (auto l = lang_of(item.substr(0, item.find(';'))); l && !zero) return *l;
            if (comma == std::string_view::npos) break;
            rest.remove_prefix(comma + 1);
        }
        return Lang::Fi;
    }

    std::string cookie_attributes() const {
        return "; Path=" + prefix + "; HttpOnly; SameSite=Strict" + (config.web.secure_cookies ? "; Secure" : "");
    }

    http::Response html(int status, std::string body) const {
        http::Response r;
        r.status = status;
        r.content_type = "text/html; charset=utf-8";
        r.body = std::move(body);
        secure_headers(r);
        return r;
    }
    static void secure_headers(http::Response& r) {
        r.headers.emplace_back("Cache-Control", "no-store");
        r.headers.emplace_back("X-Content-Type-Options", "nosniff");
        r.headers.emplace_back("Referrer-Policy", "no-referrer");
        r.headers.emplace_back("X-Frame-Options", "DENY");
        r.headers.emplace_back("Content-Security-Policy",
                               "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
                               "form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
    }
    http::Response redirect(const std::string& to) const {
        http::Response r;
        r.status = 303;
        r.content_type = "text/html; charset=utf-8";
        r.body = "<!doctype html><title>303</title><a href=\"" + html_escape(to) + "\">" + html_escape(to) + "</a>";
        r.headers.emplace_back("Location", to);
        secure_headers(r);
        return r;
    }

    // The whole page around `content`.
    std::string page(Lang lang, const std::string& title, const std::string& current, const std::string& content,
                     const Account* account, const http::Request& req) const {
        std::string h = "<!doctype html>\n<html lang=\"" + std::string(lang_code(lang)) +
                        "\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" "
                        "content=\"width=device-width, initial-scale=1\">\n<link rel=\"icon\" href=\"data:,\">\n<title>" +
                        html_escape(title + " – " + text(lang, "title")) + "</title>\n<style>" + kStyle +
                        "</style>\n</head>\n<body>\n<a class=\"skip\" href=\"#main\">" + html_escape(text(lang, "skip")) +
                        "</a>\n<header>\n<span class=\"brand\">Kohtaamo</span>\n";
        if (account) {
            h += "<nav aria-label=\"" + html_escape(text(lang, "nav")) + "\"><ul>";
            for (const char* p : {"fleet", "counts", "exports"})
                h += "<li><a href=\"" + html_escape(std::string(p)) + "\"" + (current == p ? " aria-current=\"page\"" : "") + ">" +
                     html_escape(text(lang, p)) + "</a></li>";
            h += "</ul></nav>\n";
        }
        h += "<div class=\"tools\"><span class=\"langs\" role=\"group\" aria-label=\"" + html_escape(text(lang, "language")) +
             "\">";
        // The language links keep the page's other parameters.
        std::string keep;
        for (const auto& [k, v] : req.query)
            if (k != "lang" && k != "csrf") keep += url_encode(k) + "=" + url_encode(v) + "&";
        const std::string self = current;  // links are relative: behind a proxy that strips the prefix too
        for (Lang l : {Lang::Fi, Lang::Sv, Lang::En}) {
            const char* names[] = {"Suomi", "Svenska", "English"};
            h += "<a href=\"" + html_escape(self + "?" + keep + "lang=" + lang_code(l)) + "\" lang=\"" + lang_code(l) + "\"" +
                 (l == lang ? " aria-current=\"true\"" : "") + ">" + names[static_cast<int>(l)] + "</a>";
        }
        h += "</span>";
        if (account) {
            h += "<span>" + html_escape(fill(lang, "signed_in", account->name)) + "</span>";
            h += "<form method=\"post\" action=\"logout\"><input type=\"hidden\" name=\"csrf\" value=\"" +
                 html_escape(account->csrf) + "\"><button type=\"submit\">" + html_escape(text(lang, "logout")) + "</button></form>";
        }
        h += "</div>\n</header>\n<main id=\"main\">\n<h1>" + html_escape(title) + "</h1>\n" + content + "</main>\n</body>\n</html>\n";
        return h;
    }

    // --- sessions ----------------------------------------------------------------------
    std::optional<Account> session_of(const http::Request& req) {
        const std::string secret = cookie(req, "kohtaamo_session");
        if (secret.empty() || secret.size() > 200) return std::nullopt;
        const std::string id_hash = hash_token(secret);
        auto s = storage.web_session(id_hash, now_ms());
        if (!s) return std::nullopt;
        auto a = storage.web_account(s->account);
        if (!a) return std::nullopt;
        return Account{a->name, a->sites, s->csrf, id_hash};
    }

    http::Response login_page(Lang lang, const http::Request& req, int status, const std::string& message) {
        // A token for this visit's form, also in a cookie: a login posted from elsewhere
        // has not got it.
        const std::string token = new_token();
        std::string c;
        if (!message.empty()) c += "<p class=\"error\" role=\"alert\">" + html_escape(message) + "</p>\n";
        c += "<form class=\"box\" method=\"post\" action=\"login\">"
             "\n<input type=\"hidden\" name=\"csrf\" value=\"" + html_escape(token) +
             "\">\n<p><label for=\"name\">" + html_escape(text(lang, "name")) +
             "</label><input type=\"text\" id=\"name\" name=\"name\" autocomplete=\"username\" required "
             "autocapitalize=\"none\"></p>\n<p><label for=\"password\">" +
             html_escape(text(lang, "password")) +
             "</label><input type=\"password\" id=\"password\" name=\"password\" autocomplete=\"current-password\" "
             "required></p>\n<p><button class=\"primary\" type=\"submit\">" +
             html_escape(text(lang, "login")) + "</button></p>\n</form>\n";
        http::Response r = html(status, page(lang, text(lang, "login"), "login",
                                             "<div class=\"login\">" + c + "</div>", nullptr, req));
        r.headers.emplace_back("Set-Cookie", "kohtaamo_login=" + token + cookie_attributes() + "; Max-Age=3600");
        return r;
    }

    http::Response login(Lang lang, http::Request& req) {
        const auto form = parse_form(req.body);
        if (!same_secret(value_of(form, "csrf"), cookie(req, "kohtaamo_login"))) {
            log(req, 403, "login without its CSRF token");
            return login_page(lang, req, 403, text(lang, "csrf"));
        }
        const std::string name = value_of(form, "name"), password = value_of(form, "password");
        req.principal = "web:" + http::printable(name.substr(0, 64));
        const std::int64_t now = now_ms();
        auto account = name.size() <= 64 ? storage.web_account(name) : std::nullopt;
        if (account && account->locked_until_ms > now) {
            log(req, 429, "login refused: the account is locked");
            return login_page(lang, req, 429, fill(lang, "locked", local_time_text(account->locked_until_ms)));
        }
        const std::string& hash = account ? account->password_hash : dummy();
        const bool good = password.size() <= 1024 &&
                          crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0 && account;
        if (!good) {
            if (account) {
                const std::int64_t until = storage.web_login_failed(
                    name, now, config.web.lock_after_failures, config.web.first_lock_minutes * 60'000LL,
                    config.web.max_lock_minutes * 60'000LL);
                if (until > 0) {
                    log(req, 429, "wrong password: the account is locked until " + iso8601_utc(until));
                    return login_page(lang, req, 429, fill(lang, "locked", local_time_text(until)));
                }
            }
            log(req, 401, "wrong user name or password");
            return login_page(lang, req, 401, text(lang, "wrong"));
        }
        storage.web_login_succeeded(name);
        const std::string secret = new_token();
        WebSession s{name, new_token(), now + config.web.session_hours * 3'600'000LL};
        storage.create_web_session(hash_token(secret), s, now);
        log(req, 303, "logged in");
        http::Response r = redirect("fleet");
        r.headers.emplace_back("Set-Cookie", "kohtaamo_session=" + secret + cookie_attributes() +
                                                 "; Max-Age=" + std::to_string(config.web.session_hours * 3600));
        r.headers.emplace_back("Set-Cookie", "kohtaamo_login=" + cookie_attributes() + "; Max-Age=0");
        return r;
    }

    const std::string& dummy() {
        // made once, on first need (a worker thread; the race makes two at worst)
        if (dummy_hash.empty()) dummy_hash = hash_password(new_token());
        return dummy_hash;
    }

    http::Response forbidden(Lang lang, const http::Request& req, const Account* a, const std::string& why) {
        log(req, 403, why);
        return html(403, page(lang, "403", "", "<p class=\"error\" role=\"alert\">" + html_escape(text(lang, "csrf")) + "</p>\n", a, req));
    }

    // --- the fleet ---------------------------------------------------------------------
    struct Kiosk {
        DeviceHealth h;
        std::string site;
        bool silent = false;
    };

    std::vector<Kiosk> fleet(const Account& a) {
        std::map<std::string, std::string> by_id, by_name;
        for (auto& [k, v] : storage.sites_by_device_id()) by_id[k] = v;
        for (auto& [k, v] : storage.sites_by_device_name()) by_name[k] = v;
        const std::int64_t now = now_ms();
        std::vector<Kiosk> out;
        for (DeviceHealth& h : storage.device_health()) {
            Kiosk k;
            if (auto it = by_name.find(h.device_name); it != by_name.end()) k.site = it->second;
            else if (auto it2 = by_id.find(h.device_id); it2 != by_id.end()) k.site = it2->second;
            if (!a.may_see(k.site)) continue;
            const SiteSettings* s = config.site(k.site);
            k.silent = is_silent(s ? s->hours : OpenHours::always(), h.heard_ms, now, config.web.silent_after_minutes);
            k.h = std::move(h);
            out.push_back(std::move(k));
        }
        std::stable_sort(out.begin(), out.end(), [&](const Kiosk& x, const Kiosk& y) {
            if (x.silent != y.silent) return x.silent;
            const std::string xs = site_name(x.site), ys = site_name(y.site);
            if (xs != ys) return xs < ys;
            return x.h.device_name < y.h.device_name;
        });
        return out;
    }

    // Sites for the filters: the config's, then any other a kiosk named, that `a` may see.
    std::vector<std::string> known_sites(const Account& a, const std::vector<Kiosk>* kiosks) {
        std::vector<std::string> out;
        for (const auto& s : config.sites)
            if (a.may_see(s.id)) out.push_back(s.id);
        if (kiosks)
            for (const auto& k : *kiosks)
                if (!k.site.empty() && std::find(out.begin(), out.end(), k.site) == out.end()) out.push_back(k.site);
        for (const auto& s : a.sites)
            if (std::find(out.begin(), out.end(), s) == out.end()) out.push_back(s);
        return out;
    }

    std::string site_select(Lang lang, const std::vector<std::string>& sites, const std::string& chosen) const {
        std::string h = "<p><label for=\"site\">" + html_escape(text(lang, "site")) + "</label><select id=\"site\" name=\"site\">";
        h += "<option value=\"\">" + html_escape(text(lang, "all")) + "</option>";
        for (const auto& s : sites)
            h += "<option value=\"" + html_escape(s) + "\"" + (s == chosen ? " selected" : "") + ">" + html_escape(site_name(s)) +
                 "</option>";
        return h + "</select></p>";
    }

    std::string limited_note(Lang lang, const Account& a) const {
        if (a.sites.empty()) return "";
        std::string names;
        for (const auto& s : a.sites) names += (names.empty() ? "" : ", ") + site_name(s);
        return "<p class=\"note\">" + html_escape(fill(lang, "limited", names)) + "</p>\n";
    }

    http::Response fleet_page(Lang lang, const http::Request& req, const Account& a) {
        const std::string site = value_of(req.query, "site"), state = value_of(req.query, "state");
        std::vector<Kiosk> all = fleet(a);
        const auto sites = known_sites(a, &all);
        std::string c = limited_note(lang, a);
        c += "<form class=\"box filters\" method=\"get\" action=\"fleet\">" +
             site_select(lang, sites, site) + "<p><label for=\"state\">" + html_escape(text(lang, "state")) +
             "</label><select id=\"state\" name=\"state\">";
        for (const char* s : {"", "silent", "ok"})
            c += "<option value=\"" + std::string(s) + "\"" + (state == s ? " selected" : "") + ">" +
                 html_escape(text(lang, *s ? s : "all")) + "</option>";
        c += "</select></p><p><button class=\"primary\" type=\"submit\">" + html_escape(text(lang, "show")) + "</button></p></form>\n";
        std::vector<const Kiosk*> shown;
        std::size_t silent = 0;
        for (const auto& k : all) {
            if (!site.empty() && k.site != site) continue;
            if (state == "silent" && !k.silent) continue;
            if (state == "ok" && k.silent) continue;
            shown.push_back(&k);
            if (k.silent) ++silent;
        }
        c += "<p id=\"summary\" role=\"status\">" +
             html_escape(replace_all(replace_all(text(lang, "kiosks_silent"), "{k}", std::to_string(shown.size())), "{s}",
                             std::to_string(silent))) +
             "</p>\n";
        if (shown.empty()) {
            c += "<p>" + html_escape(text(lang, "no_kiosks")) + "</p>\n";
        } else {
            const char* cols[] = {"kiosk", "site", "state", "heard", "pending", "oldest", "app", "bundle", "disk", "error"};
            c += "<p class=\"note\">" + html_escape(fill(lang, "silent_rule", std::to_string(config.web.silent_after_minutes))) +
                 "</p>\n<table class=\"cards\" id=\"fleet\"><thead><tr>";
            for (const char* col : cols) c += "<th scope=\"col\">" + html_escape(text(lang, col)) + "</th>";
            c += "</tr></thead><tbody>\n";
            const std::int64_t now = now_ms();
            for (const Kiosk* k : shown) {
                auto td = [&](const char* col, const std::string& value, bool num = false) {
                    return "<td data-label=\"" + html_escape(text(lang, col)) + "\"" + (num ? " class=\"num\"" : "") + "><span>" +
                           value + "</span></td>";
                };
                const auto& h = k->h.health;
                const std::string none = html_escape(text(lang, "none"));
                c += std::string("<tr class=\"") + (k->silent ? "silent" : "ok") + "\" data-kiosk=\"" +
                     html_escape(k->h.device_name) + "\">";
                c += "<th scope=\"row\" data-label=\"" + html_escape(text(lang, "kiosk")) + "\">" + html_escape(k->h.device_name) + "</th>";
                c += td("site", html_escape(site_name(k->site)));
                c += td("state", std::string("<span class=\"badge ") + (k->silent ? "silent" : "ok") + "\">" +
                                     html_escape(text(lang, k->silent ? "silent" : "ok")) + "</span>");
                c += td("heard", "<time datetime=\"" + html_escape(k->h.heard_at) + "\">" + html_escape(local_time_text(k->h.heard_ms)) +
                                     "</time> (" + html_escape(fill(lang, "ago", age_text(lang, (now - k->h.heard_ms) / 1000))) + ")");
                if (h) {
                    c += td("pending", std::to_string(h->pending), true);
                    c += td("oldest", h->pending ? html_escape(age_text(lang, h->oldest_pending_age_s)) : none, true);
                    c += td("app", html_escape(h->app_version.empty() ? text(lang, "none") : h->app_version));
                    c += td("bundle", h->bundle_version ? std::to_string(h->bundle_version) : html_escape(text(lang, "installed")));
                    c += td("disk", html_escape(bytes_text(h->free_disk_bytes)), true);
                    c += td("error", h->last_error.empty() ? none : html_escape(h->last_error));
                } else {
                    for (const char* col : {"pending", "oldest", "app", "bundle", "disk"}) c += td(col, none);
                    c += td("error", html_escape(text(lang, "no_health")));
                }
                c += "</tr>\n";
            }
            c += "</tbody></table>\n";
        }
        if (!config.sites.empty()) {
            c += "<h2>" + html_escape(text(lang, "hours")) + "</h2>\n<ul>";
            for (const auto& s : config.sites)
                if (a.may_see(s.id))
                    c += "<li>" + html_escape(s.name) + ": " + html_escape(s.hours_text == "always" ? text(lang, "always") : s.hours_text) +
                         "</li>";
            c += "</ul>\n";
        }
        log(req, 200, "fleet");
        return html(200, page(lang, text(lang, "fleet"), "fleet", c, &a, req));
    }

    // --- counts ------------------------------------------------------------------------
    http::Response counts_page(Lang lang, const http::Request& req, const Account& a) {
        const std::string site = value_of(req.query, "site");
        const bool by_day = value_of(req.query, "by") == "day";
        const auto min = static_cast<std::int64_t>(config.export_defaults.min_group);
        // period → (site, survey) → count
        std::map<std::string, std::map<std::pair<std::string, std::string>, std::int64_t>> table;
        std::set<std::string> seen_sites;
        for (const HourCount& h : storage.hour_counts()) {
            if (!a.may_see(h.site)) continue;
            seen_sites.insert(h.site);
            if (!site.empty() && h.site != site) continue;
            const auto ms = parse_iso8601_utc(h.hour + ":00:00Z");
            if (!ms) continue;
            const LocalParts p = local_parts(*ms);
            const std::string period = by_day ? std::to_string(p.year) + "-" + two(p.month) + "-" + two(p.day)
                                              : std::to_string(p.iso_year) + "-W" + two(p.iso_week);
            table[period][{h.site, h.survey_id}] += h.responses;
        }
        auto sites = known_sites(a, nullptr);
        for (const auto& s : seen_sites)
            if (std::find(sites.begin(), sites.end(), s) == sites.end()) sites.push_back(s);
        std::string c = limited_note(lang, a);
        c += "<form class=\"box filters\" method=\"get\" action=\"counts\">" +
             site_select(lang, sites, site) + "<p><label for=\"by\">" + html_escape(text(lang, "by")) +
             "</label><select id=\"by\" name=\"by\"><option value=\"week\">" + html_escape(text(lang, "week")) +
             "</option><option value=\"day\"" + (by_day ? " selected" : "") + ">" + html_escape(text(lang, "day")) +
             "</option></select></p><p><button class=\"primary\" type=\"submit\">" + html_escape(text(lang, "show")) +
             "</button></p></form>\n<p class=\"note\">" + html_escape(fill(lang, "counts_note", std::to_string(min))) + "</p>\n";
        if (table.empty()) {
            c += "<p>" + html_escape(text(lang, "no_counts")) + "</p>\n";
        } else {
            c += "<table class=\"cards\" id=\"counts\"><thead><tr><th scope=\"col\">" + html_escape(text(lang, "by")) +
                 "</th><th scope=\"col\">" + html_escape(text(lang, "site")) + "</th><th scope=\"col\">" +
                 html_escape(text(lang, "survey")) + "</th><th scope=\"col\">" + html_escape(text(lang, "responses")) +
                 "</th></tr></thead><tbody>\n";
            for (auto it = table.rbegin(); it != table.rend(); ++it)
                for (const auto& [key, n] : it->second) {
                    c += "<tr><th scope=\"row\" data-label=\"" + html_escape(text(lang, "by")) + "\">" + html_escape(it->first) +
                         "</th><td data-label=\"" + html_escape(text(lang, "site")) + "\">" + html_escape(site_name(key.first)) +
                         "</td><td data-label=\"" + html_escape(text(lang, "survey")) + "\">" + html_escape(survey_title(key.second, lang)) +
                         "</td><td class=\"num\" data-label=\"" + html_escape(text(lang, "responses")) + "\">" +
                         html_escape(n < min ? fill(lang, "fewer", std::to_string(min)) : std::to_string(n)) + "</td></tr>\n";
                }
            c += "</tbody></table>\n";
        }
        log(req, 200, "counts");
        return html(200, page(lang, text(lang, "counts"), "counts", c, &a, req));
    }

    std::string survey_title(const std::string& id, Lang lang) const {
        for (const Survey& s : config.surveys)
            if (s.id == id) {
                const std::string t = text_in(s.title, lang_code(lang), "fi");
                if (!t.empty()) return t;
            }
        return id;
    }

    // --- exports -----------------------------------------------------------------------
    http::Response exports_page(Lang lang, const http::Request& req, const Account& a) {
        const auto sites = known_sites(a, nullptr);
        const auto min = std::to_string(config.export_defaults.min_group);
        std::string c = limited_note(lang, a);
        c += "<p class=\"note\">" + html_escape(fill(lang, "exports_note", min)) + "</p>\n";
        c += "<form class=\"box\" method=\"get\" action=\"download\">"
             "\n<input type=\"hidden\" name=\"csrf\" value=\"" + html_escape(a.csrf) +
             "\"><input type=\"hidden\" name=\"lang\" value=\"" + lang_code(lang) + "\">\n";
        c += "<fieldset><legend>" + html_escape(text(lang, "format")) + "</legend>";
        for (const char* f : {"report", "xlsx", "long", "wide", "jsonl"})
            c += "<label><input type=\"radio\" name=\"format\" value=\"" + std::string(f) + "\"" +
                 (std::string_view(f) == "report" ? " checked" : "") + "> " + html_escape(text(lang, std::string("f_") + f)) +
                 "</label>";
        c += "<label><input type=\"checkbox\" name=\"excel\" value=\"1\"> " + html_escape(text(lang, "excel")) + "</label>";
        c += "</fieldset>\n<fieldset><legend>" + html_escape(text(lang, "sites")) + "</legend><p class=\"note\">" +
             html_escape(text(lang, "all_sites_note")) + "</p>";
        for (const auto& s : sites)
            c += "<label><input type=\"checkbox\" name=\"site\" value=\"" + html_escape(s) + "\"> " + html_escape(site_name(s)) + "</label>";
        c += "</fieldset>\n<fieldset><legend>" + html_escape(text(lang, "survey")) +
             "</legend><label for=\"survey\" class=\"sr\">" + html_escape(text(lang, "survey")) +
             "</label><select id=\"survey\" name=\"survey\"><option value=\"\">" + html_escape(text(lang, "all_surveys")) +
             "</option>";
        for (const Survey& s : config.surveys)
            c += "<option value=\"" + html_escape(s.id) + "\">" + html_escape(survey_title(s.id, lang)) + "</option>";
        c += "</select></fieldset>\n<fieldset><legend>" + html_escape(text(lang, "period")) +
             "</legend><div class=\"filters\" style=\"display:flex;flex-wrap:wrap;gap:8px 16px\"><p><label for=\"from\">" +
             html_escape(text(lang, "from")) + "</label><input type=\"date\" id=\"from\" name=\"from\"></p><p><label for=\"to\">" +
             html_escape(text(lang, "to")) + "</label><input type=\"date\" id=\"to\" name=\"to\"></p><p><label for=\"half-year\">" +
             html_escape(text(lang, "half_year")) +
             "</label><input type=\"text\" id=\"half-year\" name=\"half-year\" pattern=\"[0-9]{4}H[12]|current|previous\" "
             "size=\"10\"></p></div></fieldset>\n";
        c += "<fieldset><legend>" + html_escape(text(lang, "options")) + "</legend>";
        for (const char* o : {"include-abandoned", "include-flagged", "no-free-text"}) {
            const char* key = std::string_view(o) == "include-abandoned" ? "abandoned"
                              : std::string_view(o) == "include-flagged" ? "flagged"
                                                                         : "no_free_text";
            c += "<label><input type=\"checkbox\" name=\"" + std::string(o) + "\" value=\"1\"> " + html_escape(text(lang, key)) +
                 "</label>";
        }
        c += "</fieldset>\n<p style=\"display:flex;flex-wrap:wrap;gap:8px\"><button class=\"primary\" type=\"submit\">" +
             html_escape(text(lang, "download")) + "</button><button class=\"primary\" type=\"submit\" formaction=\"report\">" + html_escape(text(lang, "view")) + "</button></p>\n</form>\n";
        log(req, 200, "exports");
        return html(200, page(lang, text(lang, "exports"), "exports", c, &a, req));
    }

    // GET download / report: the export's parameters as GET /v1/export takes them, less
    // ours (csrf), with the account's sites and the config's min_group enforced.
    http::Response download(Lang lang, http::Request& req, const Account& a, bool view) {
        if (!same_secret(value_of(req.query, "csrf"), a.csrf)) return forbidden(lang, req, &a, "download without its CSRF token");
        std::vector<std::pair<std::string, std::string>> params;
        std::vector<std::string> sites;
        bool has_format = false;
        for (const auto& [k, v] : req.query) {
            if (k == "csrf" || k == "min-group" || k == "name") continue;
            if (v.empty() && k != "excel" && k != "include-abandoned" && k != "include-flagged" && k != "no-free-text")
                continue;  // an empty form field: not given
            if (k == "site") {
                if (!a.may_see(v)) {
                    log(req, 403, "site " + v + " is not this account's");
                    return html(403, page(lang, "403", "", "<p class=\"error\" role=\"alert\">" +
                                                               html_escape(text(lang, "forbidden_site")) + "</p>\n", &a, req));
                }
                sites.push_back(v);
            }
            if (k == "format") has_format = true;
            params.emplace_back(k, v);
        }
        if (view) {
            if (has_format) std::erase_if(params, [](const auto& p) { return p.first == "format"; });
            params.emplace_back("format", "report");
        }
        if (sites.empty())
            for (const auto& s : a.sites) params.emplace_back("site", s);
        http::Request export_request = req;
        export_request.query = std::move(params);
        export_request.principal = "web:" + a.name;
        http::Response r = exporter(export_request);
        if (r.status >= 400 && r.file < 0 && r.content_type == "application/json") {
            // GET /v1/export's error, as a page: its message names the parameter.
            std::string message = r.body;
            try {
                message = nlohmann::json::parse(r.body).value("message", r.body);
            } catch (const std::exception&) {
            }
            http::Response page_reply = html(r.status, page(lang, std::to_string(r.status), "exports",
                                                            "<p class=\"error\" role=\"alert\">" + html_escape(message) +
                                                                "</p>\n<p><a href=\"exports\">" +
                                                                html_escape(text(lang, "exports")) + "</a></p>\n",
                                                            &a, req));
            for (auto& h : r.headers)
                if (h.first == "Retry-After") page_reply.headers.push_back(h);
            return page_reply;
        }
        if (r.status == 200 && view)
            for (auto& [k, v] : r.headers)
                if (k == "Content-Disposition") v = "inline" + v.substr(v.find(';'));
        if (r.status == 200) {
            r.headers.emplace_back("X-Content-Type-Options", "nosniff");
            r.headers.emplace_back("Content-Security-Policy",
                                   "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'");
        }
        return r;
    }

    http::Response handle(http::Request& req) {
        const std::string page_name = *page_of(req.path);
        bool chosen = false;
        const Lang lang = lang_for(req, chosen);
        http::Response r = route(page_name, lang, req);
        if (chosen)
            r.headers.emplace_back("Set-Cookie", std::string("kohtaamo_lang=") + lang_code(lang) + cookie_attributes() +
                                                     "; Max-Age=31536000");
        return r;
    }

    http::Response route(const std::string& name, Lang lang, http::Request& req) {
        const bool post = req.method == "POST";
        if (name == "login") {
            if (post) return login(lang, req);
            if (session_of(req)) return redirect("fleet");
            log(req, 200, "login page");
            return login_page(lang, req, 200, "");
        }
        auto account = session_of(req);
        if (!account) {
            log(req, 303, "no session: to the login page");
            return redirect("login");
        }
        req.principal = "web:" + account->name;
        if (name == "logout") {
            if (!post) return redirect("fleet");
            if (!same_secret(value_of(parse_form(req.body), "csrf"), account->csrf))
                return forbidden(lang, req, &*account, "logout without its CSRF token");
            storage.remove_web_session(account->session_hash);
            log(req, 303, "logged out");
            http::Response r = redirect("login");
            r.headers.emplace_back("Set-Cookie", "kohtaamo_session=" + cookie_attributes() + "; Max-Age=0");
            return r;
        }
        if (post) return forbidden(lang, req, &*account, "POST to a page that takes none");
        if (name.empty()) {
            // "/kohtaamo/" → "fleet"; "/kohtaamo" (no slash) → "kohtaamo/fleet"
            const std::string last = req.path.substr(req.path.rfind('/') + 1);
            return redirect(last.empty() ? "fleet" : last + "/fleet");
        }
        if (name == "fleet") return fleet_page(lang, req, *account);
        if (name == "counts") return counts_page(lang, req, *account);
        if (name == "exports") return exports_page(lang, req, *account);
        if (name == "download") return download(lang, req, *account, false);
        if (name == "report") return download(lang, req, *account, true);
        log(req, 404, "no such page");
        return html(404, page(lang, "404", "", "<p>" + html_escape(text(lang, "not_found")) + "</p>", &*account, req));
    }
};

Web::Web(const CollectorConfig& config, Storage& storage, WebExporter exporter, WebLog log)
    : impl_(std::make_unique<Impl>(config, storage, std::move(exporter), std::move(log))) {}
Web::~Web() = default;

bool Web::owns(const std::string& path) const { return impl_->config.web.enabled && impl_->page_of(path).has_value(); }

std::optional<http::Response> Web::on_headers(http::Request& req) {
    if (req.method != "GET" && req.method != "HEAD" && req.method != "POST") {
        http::Response r = impl_->html(405, "<!doctype html><title>405</title><p>GET or POST</p>");
        r.headers.emplace_back("Allow", "GET, HEAD, POST");
        impl_->log(req, 405, "method not allowed");
        return r;
    }
    if (req.method == "POST") {
        const std::string length = req.header("content-length");
        if (length.empty() || length.size() > 5 || length.find_first_not_of("0123456789") != std::string::npos ||
            std::stoul(length) > 16384) {
            impl_->log(req, 413, "a form of more than 16 KiB, or without a length");
            return impl_->html(413, "<!doctype html><title>413</title><p>The form is too large.</p>");
        }
    }
    return std::nullopt;
}

http::Response Web::handle(http::Request& req) {
    try {
        return impl_->handle(req);
    } catch (const StorageUnavailable& e) {
        impl_->log(req, 503, std::string("the database is unavailable: ") + e.what());
        http::Response r = impl_->html(503, "<!doctype html><title>503</title><p>The database is unavailable; try again in a moment.</p>");
        r.headers.emplace_back("Retry-After", "5");
        return r;
    }
}

}  // namespace kohtaamo::sync
