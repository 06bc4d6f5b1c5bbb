// web.hpp — the coordinators' web page, served by the collector itself (issue #14):
// server-rendered HTML under [web] prefix (e.g. /kohtaamo/ behind nginx), inline CSS,
// no scripts, nothing loaded from elsewhere.
//
// Pages (under the prefix): login, fleet (every kiosk's health, silent ones first),
// counts (responses per site and survey, by week or day), exports (the report and every
// export with GET /v1/export's filters; the files come from the same code, see
// Collector's export), logout. fi, sv and en: ?lang=, else the kohtaamo_lang cookie, else
// Accept-Language.
//
// Security:
//  - accounts from `kohtaamo-collector account add NAME [--sites a,b]`, Argon2id hashes
//    (libsodium crypto_pwhash_str_alg); after [web] lock_after_failures wrong passwords
//    in a row the account is locked for first_lock_minutes, doubled with every further
//    lock, counted in the database (every instance sees the same);
//  - sessions are database rows (only a BLAKE2b hash of the cookie's secret is stored);
//    the cookie is HttpOnly, SameSite=Strict, Path=prefix and Secure ([web]
//    secure_cookies = false only for plain-HTTP tests on loopback);
//  - every form carries a CSRF token: the session's (the login form: a per-visit token
//    also set as a cookie); a POST, or a download, without the right one is 403;
//  - every page and download needs a session; a coordinator limited to some sites sees
//    only their kiosks, counts and answers;
//  - small-group protection: counts under [export] min_group show as "fewer than N",
//    and downloads always use the config's min_group.
#pragma once
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "config.hpp"
#include "http.hpp"
#include "storage.hpp"

namespace kohtaamo::sync {

// Makes an export file for a request whose query holds GET /v1/export's parameters
// (collector.cpp: the same checks and files as GET /v1/export).
using WebExporter = std::function<http::Response(http::Request&)>;
using WebLog = std::function<void(const http::Request&, int status, const std::string& detail)>;

class Web {
public:
    Web(const CollectorConfig& config, Storage& storage, WebExporter exporter, WebLog log);
    ~Web();
    Web(const Web&) = delete;
    Web& operator=(const Web&) = delete;

    // Whether the path is one of the web page's.
    bool owns(const std::string& path) const;
    // On the event thread: refuses a request that cannot be one of ours from its headers.
    std::optional<http::Response> on_headers(http::Request& request);
    // On a worker.
    http::Response handle(http::Request& request);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// A password hash for an account (Argon2id, libsodium's interactive limits).
std::string hash_password(const std::string& password);

}  // namespace kohtaamo::sync
