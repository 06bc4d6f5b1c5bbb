// Export of everything a collector holds (CSV, JSON), streamed row by row so that a large
// database does not have to fit in memory.
#include <ostream>

#include "collector.hpp"
#include "sqlite.hpp"

namespace kohtaamo::sync {

namespace {

class ReadOnly {
public:
    explicit ReadOnly(const std::filesystem::path& file) {
        std::error_code ec;
        if (!std::filesystem::exists(file, ec))
            throw std::runtime_error("export: " + file.string() + " does not exist (has the collector run yet?)");
        if (sqlite3_open_v2(file.c_str(), &db_, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
            std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
            sqlite3_close(db_);
            throw std::runtime_error("export: cannot open " + file.string() + ": " + msg);
        }
        sqlite3_busy_timeout(db_, 10000);
    }
    ~ReadOnly() { sqlite3_close(db_); }
    sqlite3* get() { return db_; }

private:
    sqlite3* db_ = nullptr;
};

constexpr const char* kColumns[] = {"response_id", "device_id",  "device_name", "batch_id",    "received_at",
                                    "survey_id",   "survey_version", "language", "status",      "started_at",
                                    "finished_at", "site",       "event",       "flagged",     "question_id",
                                    "value",       "answered_at"};

constexpr const char* kQuery =
    "SELECT r.id, r.device_id, r.device_name, r.batch_id, r.received_at, r.survey_id, r.survey_version, r.language,"
    " r.status, r.started_at, r.finished_at, r.site, r.event, r.flagged, a.question_id, a.value, a.answered_at"
    " FROM responses r LEFT JOIN answers a ON a.response_id = r.id"
    " ORDER BY r.started_at, r.id, a.question_id, a.value";

void csv_field(std::ostream& out, const std::string& v) {
    if (v.find_first_of(",\"\r\n") == std::string::npos) {
        out << v;
        return;
    }
    out << '"';
    for (char c : v) {
        if (c == '"') out << '"';
        out << c;
    }
    out << '"';
}

}  // namespace

void export_csv(const std::filesystem::path& database, std::ostream& out) {
    ReadOnly db(database);
    Statement s(db.get(), kQuery);
    const int n = static_cast<int>(std::size(kColumns));
    for (int i = 0; i < n; ++i) out << (i ? "," : "") << kColumns[i];
    out << "\r\n";
    while (s.step()) {
        for (int i = 0; i < n; ++i) {
            if (i) out << ',';
            csv_field(out, s.text(i));
        }
        out << "\r\n";
    }
}

void export_json(const std::filesystem::path& database, std::ostream& out) {
    ReadOnly db(database);
    Statement s(db.get(), kQuery);
    nlohmann::json current;
    bool first = true;
    auto flush = [&] {
        if (current.is_null()) return;
        out << (first ? "[\n" : ",\n") << current.dump();
        first = false;
    };
    while (s.step()) {
        std::string id = s.text(0);
        if (current.is_null() || current["id"] != id) {
            flush();
            current = {{"id", id},
                       {"device_id", s.text(1)},
                       {"device_name", s.text(2)},
                       {"batch_id", s.text(3)},
                       {"received_at", s.text(4)},
                       {"survey_id", s.text(5)},
                       {"survey_version", s.integer(6)},
                       {"language", s.text(7)},
                       {"status", s.text(8)},
                       {"started_at", s.text(9)},
                       {"finished_at", s.optional_text(10) ? nlohmann::json(s.text(10)) : nlohmann::json()},
                       {"site", s.text(11)},
                       {"event", s.text(12)},
                       {"flagged", s.integer(13) != 0},
                       {"answers", nlohmann::json::array()}};
        }
        if (!s.is_null(14))
            current["answers"].push_back(
                {{"question_id", s.text(14)}, {"value", s.text(15)}, {"answered_at", s.text(16)}});
    }
    flush();
    out << (first ? "[]\n" : "\n]\n");
}

}  // namespace kohtaamo::sync
