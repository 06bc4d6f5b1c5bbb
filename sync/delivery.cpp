#include "delivery.hpp"

#include <fstream>

#include "outbox.hpp"
#include "output.hpp"
#include "schema.hpp"
#include "seal.hpp"
#include "sqlite.hpp"

namespace kohtaamo::sync {

ExportResult write_delivery_file(const std::filesystem::path& database, bool send_abandoned,
                                 const std::filesystem::path& folder, const std::string& name) {
    ExportResult result;
    std::error_code ec;
    if (!std::filesystem::is_directory(folder, ec)) {
        result.status = ExportStatus::NoDrive;
        result.message = "no drive: " + folder.string() + " is not there";
        return result;
    }
    std::vector<Batch> batches;
    int left_out = 0;
    try {
        Outbox box(database, send_abandoned);
        batches = box.delivery(kDeliveryBatch, &left_out);
        result.withheld = static_cast<std::uint64_t>(left_out);
    } catch (const std::exception& e) {
        result.status = ExportStatus::DatabaseError;
        result.message = std::string("cannot read the kiosk's database: ") + e.what();
        return result;
    }
    try {
        AtomicFile out(folder, name + ".delivery.jsonl", 0600);
        for (const auto& b : batches) {
            out.write(encode_batch(b));
            out.write("\n");
            result.responses += b.responses.size();
            for (const auto& r : b.responses) result.answers += r.answers.size();
        }
        out.finish();
        out.commit();
        result.files.push_back(out.final_path());
    } catch (const OutputError& e) {
        return output_failure_result(e, folder);
    }
    return result;
}

std::vector<Batch> read_delivery_file(const std::filesystem::path& file, const Limits& limits) {
    std::ifstream in(file, std::ios::binary);
    if (!in) throw std::runtime_error(file.string() + ": cannot be read");
    std::vector<Batch> out;
    std::string line;
    for (int n = 1; std::getline(in, line); ++n) {
        if (line.empty()) continue;
        try {
            out.push_back(parse_batch(line, limits));
        } catch (const ProtocolError& e) {
            throw std::runtime_error(file.string() + ":" + std::to_string(n) + ": not a delivery file's batch: " +
                                     e.what());
        }
    }
    return out;
}

bool is_delivery_file(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    char c = 0;
    return in.get(c) && c == '{';
}

std::unique_ptr<ExportDatabase> open_delivery_export_database(const std::filesystem::path& file,
                                                             const SealKeyring& keys) {
    std::vector<Batch> batches = read_delivery_file(file);
    sqlite3* mem = nullptr;
    if (sqlite3_open_v2(":memory:", &mem, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) != SQLITE_OK) {
        sqlite3_close(mem);
        throw std::runtime_error("out of memory");
    }
    try {
        for (const char* step : schema_migrations()) sqlite_exec(mem, step, "delivery");
        Statement resp(mem,
                       "INSERT OR IGNORE INTO responses(id, survey_id, survey_version, language, status, started_at,"
                       " finished_at, site, event, flagged) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
        Statement ans(mem,
                      "INSERT OR IGNORE INTO answers(response_id, question_id, value, answered_at) VALUES (?, ?, ?, ?)");
        for (std::size_t i = 0; i < batches.size(); ++i) {
            Batch& b = batches[i];
            try {
                open_sealed(b, keys, Limits{});
            } catch (const ProtocolError& e) {
                throw std::runtime_error(file.string() + ":" + std::to_string(i + 1) + ": " + e.what());
            }
            for (const Response& r : b.responses) {
                resp.bind(1, r.id).bind(2, r.survey_id).bind(3, r.survey_version).bind(4, r.language).bind(5, r.status);
                resp.bind(6, r.started_at);
                if (r.finished_at.empty()) resp.bind_null(7);
                else resp.bind(7, r.finished_at);
                resp.bind(8, r.site).bind(9, r.event).bind(10, r.flagged ? 1 : 0).run();
                for (const Answer& a : r.answers) ans.bind(1, r.id).bind(2, a.question_id).bind(3, a.value).bind(4, a.answered_at).run();
            }
        }
    } catch (const SqliteError& e) {
        sqlite3_close(mem);
        throw std::runtime_error(file.string() + ": " + e.what());
    } catch (...) {
        sqlite3_close(mem);
        throw;
    }
    return adopt_sqlite_export_database(mem, file.string());
}

}  // namespace kohtaamo::sync
