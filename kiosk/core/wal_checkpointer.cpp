#include "wal_checkpointer.hpp"

#include <utility>

#include <sqlite3.h>

namespace kohtaamo {

WalCheckpointer::WalCheckpointer(sqlite3* db, std::string file, int wake_pages, int backstop_pages)
    : db_(db), file_(std::move(file)), wake_pages_(wake_pages), backstop_pages_(backstop_pages) {
    sqlite3_wal_hook(db_, &WalCheckpointer::on_commit, this);
}

WalCheckpointer::~WalCheckpointer() {
    sqlite3_wal_hook(db_, nullptr, nullptr);
    {
        std::lock_guard lock(mutex_);
        stop_ = true;
    }
    wake_.notify_one();
    if (thread_.joinable()) thread_.join();
}

int WalCheckpointer::on_commit(void* self, sqlite3* db, const char* schema, int pages) {
    auto* c = static_cast<WalCheckpointer*>(self);
    if (pages >= c->backstop_pages_) {
        sqlite3_wal_checkpoint_v2(db, schema, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    } else if (pages >= c->wake_pages_) {
        std::lock_guard lock(c->mutex_);
        c->wanted_ = true;
        if (!c->thread_.joinable()) c->thread_ = std::thread([c] { c->run(); });
        c->wake_.notify_one();
    }
    return SQLITE_OK;
}

void WalCheckpointer::run() {
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(file_.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
        sqlite3_close(db);
        return;  // the commits' backstop checkpoints instead
    }
    std::unique_lock lock(mutex_);
    for (;;) {
        wake_.wait(lock, [this] { return wanted_ || stop_; });
        if (stop_) break;
        wanted_ = false;
        lock.unlock();
        // (A connection opens its WAL at its first read: until then a checkpoint does nothing.)
        sqlite3_exec(db, "PRAGMA schema_version", nullptr, nullptr, nullptr);
        sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
        lock.lock();
    }
    lock.unlock();
    sqlite3_close(db);
}

}  // namespace kohtaamo
