// uploader.cpp — the uploader's state machine.
//
// PER RESPONSE (columns of `responses`, written only by the uploader, each change one
// transaction in outbox.cpp; the kiosk never changes a finished response):
//
//                 next_batch()                  acknowledge()
//    QUEUED ───────────────────────► IN BATCH ──────────────────────► SYNCED
//    batch_id NULL                   batch_id B (B 'open')          synced_at set
//    synced_at NULL    ◄──────────── │  │                           (final)
//                      acknowledge() │  │ split() (413; 400 on several)
//                      (not listed), │  └──► IN BATCH B1 or B2 (new ids, B 'split')
//                      renew() (409) │
//                                    └─ reject() (400/413 on B alone) ──► REJECTED
//                                       sync_rejected = reason; leaves the queue until
//                                       retry_rejected() (kohtaamo-sync --retry-rejected)
//
//  A batch gets its id when next_batch() forms it, in the same transaction that writes
//  batch_id on its members. Until it is closed (acked/split/rejected/conflict) every
//  retry — after a timeout, a reset, a crash or a SIGKILL — resends that id with the same
//  members and the same bytes (members in id order, canonical JSON), so the collector
//  sees a copy it already holds and answers "duplicate" for each response. Nothing is
//  marked synced before the collector's reply names it: a lost acknowledgement costs one
//  resend, never a lost response; the collector's unique response id makes the resend
//  harmless.
//
// PER UPLOADER (in memory; SyncStatus.state, also saved in table sync_state):
//
//            start()                      cycle() found nothing more / sent everything
//   (Off) ─────────► IDLE ◄───────────────────────────────────────────────────┐
//                     │ interval elapsed or nudge()                            │
//                     ▼                                                        │
//                  SENDING ── cycle(): next_batch → POST → reply ──────────────┘
//                     │ │
//                     │ └─ 401/403 ─────────────► AUTH_FAILED: waits auth_retry (slow;
//                     │                           the admin fixes the token), then SENDING
//                     └─ no reply / not the collector's reply / 5xx / 429 / 503 / 3xx
//                        ─────────────► WAITING: backoff = min(max, initial·2^(n-1)),
//                                       half of it random (jitter), at least Retry-After
//                                       (capped by retry_after_max); then SENDING
//   stop() from any state ──► STOPPED (the transfer in progress is aborted by curl's
//   progress callback; nothing durable is left half-done: the open batch is resent later)
//
//  How each reply is read (cycle()):
//   2xx with a protocol body echoing the batch id → acknowledge() the listed ids
//   2xx without one (a captive portal's "200 OK" page) → WAITING, nothing marked
//   400 with a protocol error body → split() or reject() (unsupported_protocol: WAITING)
//   413 (from the collector or a proxy) → split() or reject()
//   409 → renew(): the members travel again under a new batch id
//   anything else → WAITING
#include "uploader.hpp"

#include <algorithm>
#include <chrono>
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

struct Uploader::Parts {
    std::unique_ptr<Outbox> outbox;
    std::unique_ptr<HttpClient> http;
};

Uploader::Uploader(std::filesystem::path database, SyncConfig config)
    : database_(std::move(database)), config_(std::move(config)), parts_(std::make_unique<Parts>()) {
    status_.state = config_.enabled() ? SyncState::Idle : SyncState::Off;
    // What the last run left (shown until this run knows better); a missing or old
    // database is reported by the first cycle instead.
    try {
        SyncStatus saved = read_sync_status(database_, config_.send_abandoned);
        status_.pending = saved.pending;
        status_.rejected = saved.rejected;
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
        if (!parts_->http) parts_->http = std::make_unique<HttpClient>(config_, &stop_);
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
    HttpClient& http = *parts_->http;
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
    try {
        update([&](SyncStatus& s) {
            s.pending = box.pending();
            s.rejected = box.rejected();
        });
        for (;;) {
            if (stop_) {
                out.outcome = Outcome::Stopped;
                return out;
            }
            std::optional<OutgoingBatch> batch = box.next_batch(config_.batch_max_responses, config_.batch_max_bytes);
            if (!batch) {
                update([&](SyncStatus& s) {
                    s.pending = box.pending();
                    s.rejected = box.rejected();
                });
                out.outcome = Outcome::Done;
                return out;
            }
            update([](SyncStatus& s) { s.state = SyncState::Sending; });
            const std::size_t count = batch->response_ids.size();
            HttpResult r = http.post(url, headers, gzip(batch->json));
            if (r.stopped) {
                out.outcome = Outcome::Stopped;
                return out;
            }
            if (!r.transport_ok) return fail(Outcome::Transient, "cannot reach the collector: " + r.error);

            if (r.status >= 200 && r.status < 300) {
                std::string why;
                std::optional<Reply> reply = decode_reply(r.body, batch->id, why);
                if (reply) {
                    // Every listed id must be one of ours, or the reply is not to be trusted.
                    std::size_t listed = 0;
                    for (const auto* list : {&reply->stored, &reply->duplicate})
                        for (const auto& id : *list) {
                            if (!std::binary_search(batch->response_ids.begin(), batch->response_ids.end(), id)) {
                                why = "the reply lists response " + id + ", which is not in batch " + batch->id;
                                reply.reset();
                                break;
                            }
                            ++listed;
                        }
                    if (reply && listed == 0) {
                        why = "the collector acknowledged none of the batch's responses";
                        reply.reset();
                    }
                }
                if (!reply) return fail(Outcome::Transient, "HTTP " + std::to_string(r.status) + ", but " + why);
                AckResult ack = box.acknowledge(batch->id, *reply);
                out.acknowledged += ack.acknowledged;
                const std::string at = now_iso();
                update([&](SyncStatus& s) {
                    s.pending = std::max<std::int64_t>(0, s.pending - ack.acknowledged);
                    s.last_success_at = at;
                    s.last_error.clear();
                    s.last_error_at.clear();
                    s.auth_failed = false;
                });
                continue;
            }
            auto [code, message] = decode_error(r.body);
            if (r.status == 401 || r.status == 403)
                return fail(Outcome::AuthFailed, "the collector refused this kiosk's token (" + describe_http(r) +
                                                     "); an administrator must fix [sync] token");
            if (r.status == 413 || (r.status == 400 && !code.empty() && code != "unsupported_protocol")) {
                // The batch cannot be taken as it is: halve it until the culprit is alone.
                if (box.split(batch->id)) continue;
                box.reject(batch->id, describe_http(r));
                out.rejected += static_cast<int>(count);
                update([&](SyncStatus& s) {
                    s.pending = std::max<std::int64_t>(0, s.pending - static_cast<std::int64_t>(count));
                    s.rejected += static_cast<std::int64_t>(count);
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
            if (r.status >= 300 && r.status < 400)
                return fail(Outcome::Transient, "HTTP " + std::to_string(r.status) +
                                                    " redirect: not the collector (a captive portal or a wrong endpoint?)");
            return fail(Outcome::Transient, describe_http(r), retry_after);
        }
    } catch (const std::exception& e) {
        // A database error (busy for 10 s, disk full): nothing was marked; try again later.
        return fail(Outcome::Transient, std::string("sync: ") + e.what());
    }
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
            case Outcome::Transient: {
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
    s.last_success_at = get("last_success_at");
    s.last_error = get("last_error");
    s.last_error_at = get("last_error_at");
    s.auth_failed = get("auth_failed") == "1";
    return s;
}

}  // namespace kohtaamo::sync
