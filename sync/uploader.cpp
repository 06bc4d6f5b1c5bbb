// uploader.cpp — the uploader's state machine.
//
// PER RESPONSE (columns of `responses`, written only by the uploader, each change one
// transaction in outbox.cpp; the kiosk never changes a finished response):
//
//                 next_batch()                  acknowledge()
//    QUEUED ───────────────────────► IN BATCH ──────────────────────► SYNCED
//    batch_id NULL                   batch_id B (B 'open')          synced_at set
//    synced_at NULL    ◄──────────── │  │  │                        (final)
//      ▲  ▲            acknowledge() │  │  │ split() (413; 400 on several;
//      │  │            (not listed), │  │  │  fail() a 3rd time on several)
//      │  │            renew() (409) │  │  └──► IN BATCH B1 or B2 (new ids, B 'split')
//      │  │                          │  │
//      │  └── any acknowledge() ─┐   │  └─ fail() a 3rd time on B alone, nothing
//      │                         │   │     acknowledged since it began failing
//      │                    DEFERRED ◄─┘   ──► B 'deferred'; sync_deferred = n > 0
//      │                    queued behind every other response, sent alone when
//      │                    nothing else waits
//      │                                 │
//      │   reject() (400/413 on B alone; └─ fail() a 3rd time on B alone, others
//      │   next_batch(): the field rules      acknowledged meanwhile
//      │   refuse it, "not sent: ...")   ───────────────► REJECTED ("set aside")
//      │                                  sync_rejected = reason; leaves the queue
//      └──────── retry_rejected() (kohtaamo-sync --retry-rejected) ──┘
//
//  A batch gets its id when next_batch() forms it, in the same transaction that writes
//  batch_id on its members. Until it is closed (acked/split/rejected/conflict/deferred)
//  every retry — after a timeout, a reset, a crash or a SIGKILL — resends that id with the
//  same members and the same bytes (members in id order, canonical JSON), so the collector
//  sees a copy it already holds and answers "duplicate" for each response. Nothing is
//  marked synced before the collector's reply names it: a lost acknowledgement costs one
//  resend, never a lost response; the collector's unique response id makes the resend
//  harmless. (The uploader's commits are not fsynced one by one — synchronous = NORMAL,
//  docs/store.md — so a power cut, unlike a crash, may lose the last batch formed: its
//  members are then queued again and travel under a new id, answered "duplicate".)
//
// POISON: one response must never hold the others back, nor be retried forever. Bounded:
//  1. Before a response joins a batch, next_batch() applies the protocol's field rules
//     (response_problem(), the collector's own): what the collector would refuse, or what
//     cannot even be encoded (invalid UTF-8), is set aside at once ("not sent: ...").
//  2. 400 (a protocol error) and 413 split the batch in halves until the culprit is alone,
//     then reject() it with the collector's reason.
//  3. A failure that may be the batch's own doing — 5xx other than 503 (the collector, or
//     a proxy's 502/504), an empty reply (the collector died on it), a reply of the
//     collector's that acknowledges none of the batch or names ids not in it — is counted
//     against the batch by fail() (sync_batches.failures). At kBatchFailureLimit (3) the
//     batch is split; the halves inherit the count, so each further failure halves again:
//     a batch of 200 isolates its culprit in 3 + 8 failures. Alone at the limit, the
//     response is set aside when the collector acknowledged anything since the response
//     first failed (responses.sync_failed_acks < sync_state.batches_acked): it fails, the
//     others do not. Otherwise (an outage looks the same) it is deferred behind every
//     other response until the next acknowledgement: a lone response failing while nothing
//     else gets through is retried with backoff, as any outage is, and set aside at its
//     next 3 failures once another response has been acknowledged.
//  Not counted (nothing says the batch is to blame): no connection, a reset or a timeout
//  (networks do that), 503 and 429 (the collector asks for time), 3xx, 401/403, a 2xx
//  that is not the collector's (a captive portal). An acknowledgement starts the backoff
//  again from its first step, so isolating a culprit costs seconds, not hours.
//
// PER UPLOADER (in memory; SyncStatus.state, also saved in table sync_state):
//
//            start()                      cycle() found nothing more / sent everything
//   (Off) ─────────► IDLE ◄───────────────────────────────────────────────────┐
//                     │ interval elapsed or nudge()                            │
//                     ▼                                                        │
//                  SENDING ── cycle(): [definitions] next_batch → POST → reply ┘
//                     │                   (up to 3 batches in flight: WINDOW)
//                     │ │
//                     │ └─ 401/403 ─────────────► AUTH_FAILED: waits auth_retry (slow;
//                     │                           the admin fixes the token), then SENDING
//                     ├─ 422 unknown_seal_key ─► WAITING auth_retry (slow, as for a token: the
//                     │                           admin gives the collector the key); the batch
//                     │                           stays open, nothing set aside or counted
//                     └─ no reply / not the collector's reply / 5xx / 429 / 503 / 3xx
//                        ─────────────► WAITING: backoff = min(max, initial·2^(n-1)),
//                                       half of it random (jitter), at least Retry-After
//                                       (capped by retry_after_max); then SENDING
//   stop() from any state ──► STOPPED (the transfer in progress is aborted by curl's
//   progress callback; nothing durable is left half-done: the open batch is resent later)
//
//  [definitions]: first, PUT /v1/surveys/<hash> for each survey definition the collector
//  has not acknowledged (send_definitions(); PROTOCOL.md "Survey definitions"); a response
//  carries survey_hash only once its definition is acknowledged. No reply or a 5xx there →
//  WAITING (the batches wait for it); a 4xx keeps the refusal and the responses go without
//  the hash; the collector's own 404 (one from before it) → no hashes until a restart.
//
//  WINDOW: in a backlog up to kWindow (3) batches are in flight at once, each on its own
//  keep-alive connection (a second or third batch goes only while the last one sent was
//  full: it took batch_max_responses, or about batch_max_bytes). So the kiosk forms and
//  acknowledges on its thread while the collector reads one batch and stores another.
//  Each request is compressed and sent on a thread of its own; the kiosk's thread alone
//  touches the database. next_batch() never returns a batch in flight. Replies are read
//  oldest first, each exactly as below, then the window is filled again. Any outcome that
//  ends the cycle first waits for the batches still in flight and acknowledges those the
//  collector acknowledged (drain()); the others stay open and next_batch() returns them in
//  their turn (oldest open batch first), as after a crash.
//  A failure that may be a batch's own doing (POISON 3) while other batches were in
//  flight is not counted against any: the collector may have died on another one. The
//  status says so, and until a cycle has sent everything, batches go one at a time, so
//  the next such failure is judged alone (windowed_).
//
//  RAMP: a cycle's first batch takes at most kFirstBatch (200) responses, or
//  batch_max_responses if that is less; each batch that was full and was acknowledged in
//  full doubles the bound of the next ones, up to batch_max_responses (default 1000, the
//  protocol's max_responses) and below batch_ceiling_: half of any batch a 413 refused (a
//  collector or a proxy configured lower), for as long as the uploader runs. So a kiosk
//  with a few responses sends them as before; one with a backlog on a working network
//  sends it in batches of 1000 from the sixth on (200, 200, 200, 400, 800, 1000, …: a
//  fifth of the requests, commits and fsyncs per response of batches of 200;
//  docs/performance.md); a failure ends the cycle, and the next begins small again.
//
//  How each reply is read (cycle()):
//   2xx with a protocol body echoing the batch id → acknowledge() the listed ids
//     ... listing none of them, or ids not in the batch → fail() (POISON 3), WAITING
//   2xx without one (a captive portal's "200 OK" page) → WAITING, nothing marked
//   400 with a protocol error body → split() or reject() (unsupported_protocol: WAITING)
//   413 (from the collector or a proxy) → split() or reject()
//   409 → renew(): the members travel again under a new batch id
//   422 unknown_seal_key → nothing marked, the batch kept open; WAITING auth_retry
//   5xx but 503, or an empty reply → fail() (POISON 3): WAITING, or on at once when the
//     response was set aside
//   anything else → WAITING
#include "uploader.hpp"

#include <algorithm>
#include <chrono>
#include <deque>
#include <future>
#include <random>

#include "clock.hpp"
#include "http_client.hpp"
#include "outbox.hpp"
#include "protocol.hpp"

namespace kohtaamo::sync {

const char* to_string(SyncState s) {
    switch (s) {
        case SyncState::Off: return "off";
        case SyncState::Idle: return "idle";
        case SyncState::Sending: return "sending";
        case SyncState::Waiting: return "waiting";
        case SyncState::AuthFailed: return "auth_failed";
        case SyncState::Stopped: return "stopped";
    }
    return "?";
}

namespace {

std::string now_iso() {
    using namespace std::chrono;
    return iso8601_utc(duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count());
}

std::string describe_http(const HttpResult& r) {
    auto [code, message] = decode_error(r.body);
    std::string out = "HTTP " + std::to_string(r.status);
    if (!message.empty()) return out + ": " + message;
    if (!code.empty()) return out + ": " + code;
    return out;
}

}  // namespace

// How many batches may be in flight at once (WINDOW).
constexpr std::size_t kWindow = 3;
// The bound of a cycle's first batch (RAMP).
constexpr std::size_t kFirstBatch = 200;

struct Uploader::Parts {
    std::unique_ptr<Outbox> outbox;
    std::vector<std::unique_ptr<HttpClient>> http;  // one per batch in flight (WINDOW)
};

Uploader::Uploader(std::filesystem::path database, SyncConfig config)
    : database_(std::move(database)),
      config_(std::move(config)),
      parts_(std::make_unique<Parts>()),
      started_mono_ms_(Clock().mono_ms()) {
    status_.state = config_.enabled() ? SyncState::Idle : SyncState::Off;
    // What the last run left (shown until this run knows better); a missing or old
    // database is reported by the first cycle instead.
    try {
        SyncStatus saved = read_sync_status(database_, config_.send_abandoned);
        status_.pending = saved.pending;
        status_.rejected = saved.rejected;
        status_.rejected_reasons = saved.rejected_reasons;
        status_.last_success_at = saved.last_success_at;
        status_.last_error = saved.last_error;
        status_.last_error_at = saved.last_error_at;
        status_.auth_failed = saved.auth_failed;
    } catch (const std::exception&) {
    }
}

Uploader::~Uploader() { stop(); }

void Uploader::on_status_change(std::function<void(const SyncStatus&)> callback) { callback_ = std::move(callback); }

SyncStatus Uploader::status() const {
    std::lock_guard lock(status_mutex_);
    return status_;
}

void Uploader::update(const std::function<void(SyncStatus&)>& change) {
    SyncStatus copy;
    {
        std::lock_guard lock(status_mutex_);
        SyncStatus before = status_;
        change(status_);
        if (status_ == before) return;
        copy = status_;
    }
    if (callback_) callback_(copy);
}

void Uploader::start() {
    if (!config_.enabled() || thread_.joinable()) return;
    stop_ = false;
    thread_ = std::thread([this] { thread_main(); });
}

void Uploader::stop() {
    {
        std::lock_guard lock(wake_mutex_);
        stop_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) {
        thread_.join();
        update([](SyncStatus& s) { s.state = SyncState::Stopped; });
    }
}

void Uploader::nudge() {
    {
        std::lock_guard lock(wake_mutex_);
        nudged_ = true;
    }
    wake_.notify_all();
}

bool Uploader::ensure_open(std::string& error) {
    try {
        if (!parts_->outbox) parts_->outbox = std::make_unique<Outbox>(database_, config_.send_abandoned);
        while (parts_->http.size() < kWindow) parts_->http.push_back(std::make_unique<HttpClient>(config_, &stop_));
        return true;
    } catch (const std::exception& e) {
        error = e.what();
        return false;
    }
}

void Uploader::record_failure(const std::string& error, bool auth_failed) {
    const std::string at = now_iso();
    update([&](SyncStatus& s) {
        s.last_error = error;
        s.last_error_at = at;
        s.auth_failed = auth_failed;
    });
    try {
        if (parts_->outbox)
            parts_->outbox->save_state({{"last_error", error}, {"last_error_at", at},
                                        {"auth_failed", auth_failed ? "1" : "0"}});
    } catch (const std::exception&) {
        // The status in memory still says it; the database is busy or full.
    }
}

Health Uploader::health_now(Outbox& box, bool in_cycle) {
    Health h;
    h.app_version = config_.app_version;
    h.bundle_version = bundles_ ? bundles_->current_version() : config_.bundle_version;  // the survey bundle it runs
    h.config_version = config_.config_version;
    const Clock clock;
    // Counting the queue and finding its oldest read every pending row: per batch, on a
    // kiosk with a backlog of 100,000, that was most of the sync's time (quadratic). In a
    // cycle the count is the one the cycle began with, less what was acknowledged since
    // (status().pending), and the oldest is looked up again at most every 2 s; idle (a
    // heartbeat) both are read afresh.
    std::string oldest;
    if (in_cycle) {
        h.pending = status().pending;
        const std::int64_t now = clock.mono_ms();
        if (h.pending > 0 && (oldest_checked_mono_ms_ == 0 || now - oldest_checked_mono_ms_ >= 2000)) {
            oldest_pending_at_ = box.oldest_pending_at();
            oldest_checked_mono_ms_ = now;
        }
        oldest = oldest_pending_at_;
    } else {
        h.pending = box.pending();
        if (h.pending > 0) oldest = box.oldest_pending_at();
        oldest_checked_mono_ms_ = 0;
    }
    if (h.pending > 0)
        if (auto at = parse_iso8601_utc(oldest))
            h.oldest_pending_age_s = std::max<std::int64_t>(0, (clock.wall_ms() - *at) / 1000);
    std::error_code ec;
    const auto space = std::filesystem::space(database_.has_parent_path() ? database_.parent_path() : ".", ec);
    if (!ec) h.free_disk_bytes = static_cast<std::int64_t>(space.available);
    h.uptime_s = std::max<std::int64_t>(0, (clock.mono_ms() - started_mono_ms_) / 1000);
    h.last_error = status().last_error;
    // Within the field's 2000 bytes, cut at a character's start (PROTOCOL.md, "Health").
    if (h.last_error.size() > 2000) {
        std::size_t cut = 2000;
        while (cut > 0 && (static_cast<unsigned char>(h.last_error[cut]) & 0xC0) == 0x80) --cut;
        h.last_error.resize(cut);
    }
    return h;
}

// With nothing to send: a heartbeat when the collector has not heard from this kiosk for
// heartbeat_interval. A failure here is not the kiosk's business beyond a retry next time
// (the next batch says the same); an old collector (404, or health refused) ends them.
void Uploader::heartbeat_if_due(Outbox& box, HttpClient& http) {
    if (health_refused_ || config_.heartbeat_interval.count() <= 0) return;
    const std::int64_t now = Clock().mono_ms();
    if (last_contact_mono_ms_ != 0 && now - last_contact_mono_ms_ < config_.heartbeat_interval.count()) return;
    // The device id as the outbox's batches carry it.
    Heartbeat beat{box.device_id(), health_now(box, false)};
    const std::vector<std::string> headers = {"Authorization: Bearer " + config_.token,
                                              "Content-Type: application/json", "Accept: application/json"};
    HttpResult r = http.post(config_.endpoint + kHeartbeatPath, headers, encode_heartbeat(beat));
    if (!r.transport_ok) return;
    if (r.status >= 200 && r.status < 300) {
        last_contact_mono_ms_ = now;
        return;
    }
    if (r.status == 404 || (r.status == 400 && decode_error(r.body).second.rfind("health", 0) == 0)) health_refused_ = true;
}

// Each survey definition the kiosk's responses were answered with goes to the collector
// once, before the batches that name it (PROTOCOL.md, "Survey definitions"). A definition
// the collector refuses (4xx) is kept with the reason and its responses go without the hash.
std::optional<std::string> Uploader::send_definitions(Outbox& box, HttpClient& http) {
    if (definitions_unsupported_) return std::nullopt;
    const std::vector<std::string> headers = {"Authorization: Bearer " + config_.token,
                                              "Content-Type: application/toml; charset=utf-8", "Accept: application/json"};
    for (const auto& [hash, definition] : box.unsent_definitions()) {
        if (stop_) return "stopped";
        HttpResult r = http.put(config_.endpoint + std::string(kSurveysPrefix) + hash, headers, definition);
        if (!r.transport_ok) return "cannot reach the collector: " + r.error;
        if (r.status >= 200 && r.status < 300) {
            bool echoed = false;
            try {
                const nlohmann::json j = nlohmann::json::parse(r.body);
                echoed = j.is_object() && j.value("hash", std::string()) == hash;
            } catch (const nlohmann::json::exception&) {
            }
            if (!echoed) return "HTTP " + std::to_string(r.status) + " to PUT " + kSurveysPrefix.data() + ", but not the collector's reply";
            box.definition_sent(hash);
            continue;
        }
        if ((r.status == 404 || r.status == 405) && !decode_error(r.body).first.empty()) {
            // A collector from before survey definitions (its own error body, not a portal's page).
            definitions_unsupported_ = true;
            return std::nullopt;
        }
        if (r.status == 401 || r.status == 403) return std::nullopt;  // the batch says so, with the usual handling
        if (r.status >= 400 && r.status < 500 && r.status != 429 && !decode_error(r.body).first.empty()) {
            box.definition_refused(hash, describe_http(r));
            continue;
        }
        return "survey definition " + hash.substr(0, 12) + ": " + describe_http(r);
    }
    return std::nullopt;
}

Uploader::CycleResult Uploader::cycle() {
    std::lock_guard cycle_lock(cycle_mutex_);
    CycleResult out;
    if (!config_.enabled()) {
        out.error = "sync is off (no [sync] endpoint in the config)";
        out.outcome = Outcome::Transient;
        return out;
    }
    if (!ensure_open(out.error)) {
        out.outcome = Outcome::Transient;
        record_failure(out.error, false);
        return out;
    }
    Outbox& box = *parts_->outbox;
    std::vector<HttpClient*> conns;
    for (auto& c : parts_->http) conns.push_back(c.get());
    HttpClient& http = *conns.front();
    std::string batch_id_in_flight;
    const std::string url = config_.endpoint + kBatchesPath;
    const std::vector<std::string> headers = {
        "Authorization: Bearer " + config_.token, "Content-Type: application/json", "Content-Encoding: gzip",
        "Accept: application/json"};

    auto fail = [&](Outcome o, const std::string& error, std::int64_t retry_after_ms = 0) {
        out.outcome = o;
        out.error = error;
        out.retry_after_ms = retry_after_ms;
        record_failure(error, o == Outcome::AuthFailed);
        return out;
    };
    // The counts and the reasons of what is set aside, from the database.
    auto refresh_counts = [&] {
        const std::int64_t pending = box.pending(), rejected = box.rejected();
        const auto reasons = static_cast<std::int64_t>(box.rejected_reasons().size());
        update([&](SyncStatus& s) {
            s.pending = pending;
            s.rejected = rejected;
            s.rejected_reasons = reasons;
        });
    };
    // A failure that may be the batch's own doing (the rule at the top, "Poison"): counted
    // against the batch, which is split or set aside after kBatchFailureLimit of them.
    auto counted = [&](const std::string& error, std::int64_t retry_after_ms = 0) -> std::optional<CycleResult> {
        const FailOutcome what = box.fail(batch_id_in_flight, error);
        if (what == FailOutcome::Quarantined) {
            ++out.rejected;
            refresh_counts();
            update([&](SyncStatus& s) {
                s.last_error = "a response was set aside: the collector failed on it alone, and not on others (" +
                               error + ")";
                s.last_error_at = now_iso();
            });
            return std::nullopt;  // the others go on at once
        }
        return fail(Outcome::Transient,
                    what == FailOutcome::Split ? error + " (the batch is split in halves, to find what it fails on)"
                    : what == FailOutcome::Deferred
                        ? error + " (one response failing alone: it waits behind the others until the collector "
                                  "acknowledges any)"
                        : error,
                    retry_after_ms);
    };
    auto acknowledged = [&](const AckResult& ack) {
        out.acknowledged += ack.acknowledged;
        const std::string at = now_iso();
        update([&](SyncStatus& s) {
            s.pending = std::max<std::int64_t>(0, s.pending - ack.acknowledged);
            s.last_success_at = at;
            s.last_error.clear();
            s.last_error_at.clear();
            s.auth_failed = false;
        });
    };
    // WINDOW: the batches in flight, oldest first (at most kWindow, each on its own connection).
    struct InFlight {
        OutgoingBatch batch;
        bool with_health = false;
        bool full = false;  // it took batch_max_responses, or about batch_max_bytes: more are queued
        HttpClient* conn = nullptr;
        std::future<HttpResult> reply;
    };
    std::deque<InFlight> window;
    // RAMP: the most responses the next batch may take.
    std::size_t limit = std::min({kFirstBatch, config_.batch_max_responses, batch_ceiling_});
    // The collector's acknowledgement of `batch` in a 2xx, or nullopt and why (`own`: it is
    // the collector's reply to this batch, but a wrong one).
    auto read_ack = [](const HttpResult& r, const OutgoingBatch& batch, std::string& why,
                       bool& own) -> std::optional<Reply> {
        std::optional<Reply> reply = decode_reply(r.body, batch.id, why);
        own = reply.has_value();
        if (!reply) return reply;
        // Every listed id must be one of ours, or the reply is not to be trusted.
        std::size_t listed = 0;
        for (const auto* list : {&reply->stored, &reply->duplicate})
            for (const auto& id : *list) {
                if (!std::binary_search(batch.response_ids.begin(), batch.response_ids.end(), id)) {
                    why = "the reply lists response " + id + ", which is not in batch " + batch.id;
                    return std::nullopt;
                }
                ++listed;
            }
        if (listed == 0) {
            why = "the collector acknowledged none of the batch's responses";
            return std::nullopt;
        }
        return reply;
    };
    // Waits for the batches still in flight and acknowledges what the collector
    // acknowledged; any other outcome leaves a batch open, to go again in its turn.
    auto drain = [&] {
        while (!window.empty()) {
            InFlight f = std::move(window.front());
            window.pop_front();
            const HttpResult r = f.reply.get();
            if (!r.transport_ok || r.status < 200 || r.status >= 300) continue;
            std::string why;
            bool own = false;
            if (auto reply = read_ack(r, f.batch, why, own)) {
                last_contact_mono_ms_ = Clock().mono_ms();
                acknowledged(box.acknowledge(f.batch, *reply));
            }
        }
    };
    // Forms the next batch and posts it, on the connection the batch in flight is not on.
    auto send_next = [&](int& set_aside) {
        std::vector<std::string> in_flight;
        for (const InFlight& f : window) in_flight.push_back(f.batch.id);
        std::optional<OutgoingBatch> batch =
            box.next_batch(limit, config_.batch_max_bytes, &set_aside, in_flight);
        if (!batch) return false;
        InFlight f;
        // The health rides in the batch (not part of its identity: PROTOCOL.md, "Health").
        const std::string& json = batch->json;
        f.with_health = !health_refused_ && !json.empty() && json.back() == '}';
        std::string tail = f.with_health ? ",\"health\":" + to_json(health_now(box, true)).dump() + "}" : "";
        f.conn = nullptr;  // a connection no batch in flight is on
        for (HttpClient* c : conns)
            if (std::none_of(window.begin(), window.end(), [c](const InFlight& w) { return w.conn == c; })) {
                f.conn = c;
                break;
            }
        f.full = batch->response_ids.size() >= limit ||
                 json.size() * 10 >= config_.batch_max_bytes * 9;
        // Compressed on the request's own thread: the kiosk's thread goes on to the next.
        f.reply = std::async(std::launch::async, [conn = f.conn, &url, &headers, json = std::move(batch->json),
                                                  tail = std::move(tail)] {
            GzipWriter g;
            if (tail.empty()) return conn->post(url, headers, g.finish(json));
            g.add(std::string_view(json).substr(0, json.size() - 1));
            return conn->post(url, headers, g.finish(tail));
        });
        f.batch = std::move(*batch);  // (its json moved to the request's thread)
        window.push_back(std::move(f));
        update([](SyncStatus& s) { s.state = SyncState::Sending; });
        return true;
    };
    try {
        refresh_counts();
        oldest_checked_mono_ms_ = 0;  // the cycle's first batch reads the oldest afresh
        if (auto error = send_definitions(box, http)) {
            if (stop_) {
                out.outcome = Outcome::Stopped;
                return out;
            }
            return fail(Outcome::Transient, *error);
        }
        bool windowed = windowed_;
        for (;;) {
            if (stop_) {
                drain();
                out.outcome = Outcome::Stopped;
                return out;
            }
            // One batch when none is in flight; more beside it while the last one was full.
            while (window.size() < (windowed ? kWindow : 1u) && (window.empty() || window.back().full)) {
                int set_aside = 0;
                const bool sent = send_next(set_aside);
                if (set_aside > 0) {
                    out.rejected += set_aside;
                    refresh_counts();
                    update([&](SyncStatus& s) {
                        s.last_error = "a response was not sent: the kiosk's own check refused it (see the reasons)";
                        s.last_error_at = now_iso();
                    });
                }
                if (!sent) break;
            }
            if (window.empty()) {
                refresh_counts();
                if (!stop_) heartbeat_if_due(box, http);
                out.outcome = Outcome::Done;
                windowed_ = true;  // everything went: several at once again (after an unjudged failure)
                // Everything is sent: ask for a newer survey bundle (bundle_store.hpp).
                if (bundles_) fetch_bundle(http, config_, *bundles_, bundle_hooks_);
                return out;
            }
            InFlight cur = std::move(window.front());
            window.pop_front();
            const OutgoingBatch* batch = &cur.batch;
            const std::size_t count = batch->response_ids.size();
            const bool with_health = cur.with_health;
            batch_id_in_flight = batch->id;
            // Another batch travelled with this one: a failure that may be the batch's own
            // doing may then be the other's (the collector died on it). Not counted against
            // any: they go again one at a time, until a cycle sends everything (WINDOW).
            const bool beside = !window.empty();
            auto unjudged = [&](const std::string& error) {
                update([&](SyncStatus& s) {
                    s.last_error = error + " (with other batches in flight: each goes again alone)";
                    s.last_error_at = now_iso();
                });
                drain();
                windowed = windowed_ = false;
            };
            HttpResult r = cur.reply.get();
            if (r.stopped) {
                drain();
                out.outcome = Outcome::Stopped;
                return out;
            }
            if (!r.transport_ok) {
                // The collector took the request and closed without a word: it may have died
                // on this very batch (a crash), so it counts against the batch.
                if (r.empty_reply) {
                    if (beside) {
                        unjudged("the collector closed the connection without a reply");
                        continue;
                    }
                    if (auto stop = counted("the collector closed the connection without a reply")) return *stop;
                    continue;
                }
                drain();
                return fail(Outcome::Transient, "cannot reach the collector: " + r.error);
            }

            if (r.status >= 200 && r.status < 300) {
                std::string why;
                bool collectors_own = false;  // its reply to this batch, but a wrong one?
                std::optional<Reply> reply = read_ack(r, *batch, why, collectors_own);
                if (!reply && collectors_own) {
                    if (beside) {
                        unjudged("HTTP " + std::to_string(r.status) + ", but " + why);
                        continue;
                    }
                    if (auto stop = counted("HTTP " + std::to_string(r.status) + ", but " + why)) return *stop;
                    continue;
                }
                if (!reply) {
                    drain();
                    return fail(Outcome::Transient, "HTTP " + std::to_string(r.status) + ", but " + why);
                }
                last_contact_mono_ms_ = Clock().mono_ms();
                const AckResult ack = box.acknowledge(*batch, *reply);
                acknowledged(ack);
                if (cur.full && ack.released == 0)  // RAMP
                    limit = std::min({limit * 2, config_.batch_max_responses, batch_ceiling_});
                continue;
            }
            auto [code, message] = decode_error(r.body);
            if (r.status == 400 && with_health && message.rfind("health", 0) == 0) {
                // A collector from before health (or one that dislikes ours): the batch
                // goes again without it, and so do the next ones.
                health_refused_ = true;
                continue;
            }
            if (r.status == 401 || r.status == 403) {
                drain();
                return fail(Outcome::AuthFailed, "the collector refused this kiosk's token (" + describe_http(r) +
                                                     "); an administrator must fix [sync] token");
            }
            if (r.status == 422 && code == "unknown_seal_key") {
                // Sealed to a key the collector does not hold: nothing of the batch is to
                // blame and nothing is set aside; the batch stays open (same id, same bytes)
                // and goes again only every auth_retry, until the collector has the key.
                drain();
                return fail(Outcome::KeyRefused, "the collector cannot open this kiosk's sealed answers (" +
                                                     describe_http(r) +
                                                     "); an administrator must add that key to the collector, or fix "
                                                     "[privacy] seal_to");
            }
            if (r.status == 413 || (r.status == 400 && !code.empty() && code != "unsupported_protocol")) {
                // The batch cannot be taken as it is: halve it until the culprit is alone.
                if (r.status == 413 && count > 1) {  // RAMP: never this large again
                    batch_ceiling_ = std::min(batch_ceiling_, count / 2);
                    limit = std::min(limit, batch_ceiling_);
                }
                if (box.split(batch->id)) continue;
                box.reject(batch->id, describe_http(r));
                out.rejected += static_cast<int>(count);
                refresh_counts();
                update([&](SyncStatus& s) {
                    s.last_error = "the collector refused a response: " + describe_http(r);
                    s.last_error_at = now_iso();
                });
                continue;
            }
            if (r.status == 409 && !code.empty()) {
                box.renew(batch->id);
                continue;
            }
            std::int64_t retry_after = r.retry_after ? r.retry_after->count() : 0;
            if (r.status >= 300 && r.status < 400) {
                drain();
                return fail(Outcome::Transient, "HTTP " + std::to_string(r.status) +
                                                    " redirect: not the collector (a captive portal or a wrong endpoint?)");
            }
            // 5xx but 503 (which asks to come back later): the collector, or the proxy in
            // front of it (502, 504), failed on this request; counted against the batch.
            if (r.status >= 500 && r.status != 503) {
                if (beside) {
                    unjudged(describe_http(r));
                    continue;
                }
                if (auto stop = counted(describe_http(r), retry_after)) return *stop;
                continue;
            }
            drain();
            return fail(Outcome::Transient, describe_http(r), retry_after);
        }
    } catch (const std::exception& e) {
        // A database error (busy for 10 s, disk full): nothing was marked; try again later.
        // (The replies of batches still in flight are read and acknowledged if the
        // database lets us; if not, those batches go again, answered "duplicate".)
        try {
            drain();
        } catch (const std::exception&) {
        }
        return fail(Outcome::Transient, std::string("sync: ") + e.what());
    }
}

void Uploader::set_bundles(BundleStore* store, BundleHooks hooks) {
    bundles_ = store;
    bundle_hooks_ = std::move(hooks);
}

SyncReport Uploader::sync_once() {
    CycleResult c = cycle();
    SyncReport r;
    r.acknowledged = c.acknowledged;
    r.rejected = c.rejected;
    r.pending = status().pending;
    r.complete = c.outcome == Outcome::Done && r.pending == 0;
    r.error = c.error;
    r.auth_failed = c.outcome == Outcome::AuthFailed;
    r.transient = c.outcome == Outcome::Transient;
    r.retry_after_ms = c.retry_after_ms;
    update([&](SyncStatus& s) {
        if (s.state == SyncState::Sending) s.state = SyncState::Idle;
    });
    return r;
}

int Uploader::retry_rejected() {
    std::lock_guard cycle_lock(cycle_mutex_);
    std::string error;
    if (!ensure_open(error)) throw std::runtime_error(error);
    int n = parts_->outbox->retry_rejected();
    update([&](SyncStatus& s) {
        s.pending += n;
        s.rejected = std::max<std::int64_t>(0, s.rejected - n);
        s.rejected_reasons = 0;
    });
    return n;
}

void Uploader::thread_main() {
    std::mt19937_64 rng(std::random_device{}());
    int failures = 0;
    while (!stop_) {
        CycleResult c = cycle();
        Millis wait = config_.interval;
        SyncState state = SyncState::Idle;
        bool wake_on_nudge = true;
        switch (c.outcome) {
            case Outcome::Stopped: break;
            case Outcome::Done: failures = 0; break;
            case Outcome::AuthFailed:
                failures = 0;
                state = SyncState::AuthFailed;
                wait = config_.auth_retry;
                wake_on_nudge = false;  // a wrong token stops fast retries
                break;
            case Outcome::KeyRefused:  // (422 unknown_seal_key) as slow: the fix is the collector's
                failures = 0;
                state = SyncState::Waiting;
                wait = config_.auth_retry;
                wake_on_nudge = false;
                break;
            case Outcome::Transient: {
                // Progress in this cycle (a split batch's half went through) starts the
                // backoff again from its first step: a poison response costs seconds, not hours.
                if (c.acknowledged > 0) failures = 0;
                ++failures;
                std::int64_t cap = config_.backoff_max.count();
                std::int64_t delay = config_.backoff_initial.count();
                for (int i = 1; i < failures && delay < cap; ++i) delay *= 2;
                delay = std::min(delay, cap);
                // "Equal jitter": half fixed, half random, so that kiosks that lost the
                // network together do not all come back in the same second.
                std::uniform_int_distribution<std::int64_t> jitter(0, delay / 2);
                delay = delay - delay / 2 + jitter(rng);
                if (c.retry_after_ms > 0)
                    delay = std::max(delay, std::min(c.retry_after_ms, config_.retry_after_max.count()));
                wait = Millis(delay);
                state = SyncState::Waiting;
                wake_on_nudge = false;
                break;
            }
        }
        if (stop_) break;
        update([&](SyncStatus& s) { s.state = state; });
        try {
            if (parts_->outbox) parts_->outbox->save_state({{"state", to_string(state)}});
        } catch (const std::exception&) {
        }
        std::unique_lock lock(wake_mutex_);
        if (!wake_on_nudge) nudged_ = false;
        wake_.wait_for(lock, wait, [&] { return stop_.load() || (wake_on_nudge && nudged_); });
        nudged_ = false;
    }
}

SyncStatus read_sync_status(const std::filesystem::path& database, bool send_abandoned) {
    auto m = read_sync_state(database, send_abandoned);
    SyncStatus s;
    auto get = [&](const char* k) {
        auto it = m.find(k);
        return it == m.end() ? std::string() : it->second;
    };
    const std::string state = get("state");
    for (SyncState st : {SyncState::Off, SyncState::Idle, SyncState::Sending, SyncState::Waiting,
                         SyncState::AuthFailed, SyncState::Stopped})
        if (state == to_string(st)) s.state = st;
    s.pending = std::stoll(get("pending"));
    s.rejected = std::stoll(get("rejected"));
    s.rejected_reasons = std::stoll(get("rejected_reasons"));
    s.last_success_at = get("last_success_at");
    s.last_error = get("last_error");
    s.last_error_at = get("last_error_at");
    s.auth_failed = get("auth_failed") == "1";
    return s;
}

std::vector<std::pair<std::string, std::int64_t>> read_set_aside_reasons(const std::filesystem::path& database) {
    return read_rejected_reasons(database);
}

}  // namespace kohtaamo::sync
