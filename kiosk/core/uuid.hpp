// uuid.hpp — UUIDs as lowercase text (8-4-4-4-12): version 7 for new ids, version 4 from
// given bytes; the random bits and the text through libuuid.
#pragma once
#include <array>
#include <string>

namespace kohtaamo {
// A version 7 UUID (RFC 9562): the Unix time in milliseconds in its first 48 bits, then 74
// random bits (uuid_generate_random's): every response, batch and device id. Ids made later
// sort later, so a database's index of them grows at its end instead of at a random page
// for every row (on the kiosk and at the collector, SQLite and PostgreSQL alike; sync's
// figures in docs/performance.md). The time in it says no more than the response's own
// started_at, which travels beside it.
std::string new_uuid();
// A version 4 UUID made of the caller's 16 random bytes (the version and variant bits are
// set over them): for data that must come out the same on every run, such as
// kohtaamo-demo-data's from its seed.
std::string uuid_from_bytes(std::array<unsigned char, 16> bytes);
}
