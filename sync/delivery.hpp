// delivery.hpp — the sealed delivery file (sync/PROTOCOL.md, "Delivery files"): sync on a
// USB stick for a kiosk that never sees a network. The coordinator screen's Export writes
// one when the kiosk's answers are sealed and no key is at hand; `kohtaamo-collector import
// FILE` takes it exactly as it takes POST /v1/batches (the same response ids, the same
// idempotency: a second import adds nothing); `kohtaamo-export --key FILE` opens one.
//
// The file is JSON Lines: each line one batch body exactly as the uploader would POST it
// (protocol 1, at most kDeliveryBatch responses, the answers sealed as stored), no health.
#pragma once
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "export.hpp"
#include "protocol.hpp"

namespace kohtaamo::sync {

inline constexpr std::size_t kDeliveryBatch = 200;

// Writes `folder`/`name`.delivery.jsonl (atomically, fsynced) with every finished response
// of the kiosk database that sync would send and the collector has not acknowledged:
// complete ones and, with `send_abandoned`, abandoned ones; not those set aside (they go
// again after `kohtaamo-sync --retry-rejected`). Nothing in the database changes. An
// ExportResult as the coordinator screen's other exports give (files, responses, answers;
// `withheld`: responses left out because the field rules refuse them).
ExportResult write_delivery_file(const std::filesystem::path& database, bool send_abandoned,
                                 const std::filesystem::path& folder, const std::string& name);

// Reads a delivery file: each line through parse_batch(). Throws std::runtime_error naming
// "FILE:LINE" and the field.
std::vector<Batch> read_delivery_file(const std::filesystem::path& file, const Limits& limits = {});

// The responses of a delivery file, their sealed answers opened by `keys`, as an export
// source (an in-memory database with the kiosk's tables). Throws std::runtime_error.
std::unique_ptr<ExportDatabase> open_delivery_export_database(const std::filesystem::path& file,
                                                             const SealKeyring& keys);

// Whether `file` looks like a delivery file (its first line is a protocol batch), not a SQLite file.
bool is_delivery_file(const std::filesystem::path& file);

}  // namespace kohtaamo::sync
