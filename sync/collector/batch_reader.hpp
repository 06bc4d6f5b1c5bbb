// batch_reader.hpp — how the collector reads a POST /v1/batches body: a fast path on
// simdjson (Debian's libsimdjson-dev) for a body with nothing wrong in it, and
// sync::parse_batch (protocol.hpp, nlohmann's SAX parser) for everything else.
//
// The fast path decides nothing: it either returns the very Batch that parse_batch would
// return, or declines, and parse_batch reads the body again and gives its answer (the
// batch, or the 4xx that names the first fault). It declines on anything it does not
// expect of a well-formed batch: an error of the JSON (simdjson's: invalid UTF-8, an
// unescaped control character, a number out of range, trailing text, ...), a key twice,
// an unknown field, a field of another type, a value validate_response() refuses, an id
// twice, a body larger than kFastBytes. So what is refused, in which order and with which
// message, is parse_batch's alone, and tests/sync/test_batch_reader.cpp checks on mutated
// bodies that whatever the fast path returns equals what parse_batch returns.
//
// Why: reading a batch through nlohmann's SAX parser (its lexer takes a character at a
// time) was over a quarter of the collector's CPU; with this path a response costs the
// collector 18.5-20.4 µs instead of 24.0-27.3 (docs/performance.md, Sync).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "protocol.hpp"

namespace kohtaamo::sync {

// Bodies above this go straight to parse_batch. A kiosk's batch is at most about 1 MiB
// of JSON (batch_max_bytes), a batch of 200 typical responses about 90 KiB.
inline constexpr std::size_t kFastBytes = 2 << 20;
// Bodies up to this are read by a parser each worker thread keeps (about 1.7 MiB of
// buffers at most); a larger one by a parser made for it and freed after.
inline constexpr std::size_t kKeptBytes = 128 << 10;

// What the collector calls with the raw body and its Content-Encoding: body_text()
// (gunzip, limits), then the fast path, then parse_batch when the fast path declines.
Batch read_batch(std::string_view raw, std::string_view content_encoding, const Limits& limits);

// The fast path alone (for the tests): the batch in `text` (gunzipped JSON), or nullopt
// when parse_batch must read it. `text` may be reallocated to give simdjson its padding.
std::optional<Batch> read_batch_fast(std::string& text, const Limits& limits);

}  // namespace kohtaamo::sync
