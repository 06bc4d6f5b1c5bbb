// wal_checkpointer.hpp — a SQLite database's WAL copied into its file on a thread and a
// connection of their own, beside a writer's commits instead of inside them. The kiosk's
// uploader (sync/outbox.cpp) and the collector's SQLite driver (sync/collector/
// driver_sqlite.cpp) each attach one to their writing connection.
//
// SQLite's automatic checkpoint runs inside the COMMIT that crosses its threshold: the
// writer copies and fsyncs the whole WAL while whatever waits on that commit waits too.
// Attached, a commit that leaves at least `wake_pages` in the WAL only wakes this thread,
// which checkpoints PASSIVE (it waits for no reader and no writer, and the writer never
// waits for it). SQLite starts the WAL over at the first write after a checkpoint that
// copied all of it.
//   idle ─(commit: WAL ≥ wake_pages)─▶ copying ─(done)─▶ idle (again at once if woken meanwhile)
// If it falls behind (the WAL past `backstop_pages`, say while the disk is slow), the commit
// checkpoints what is left itself, as SQLite would have, so the WAL stays bounded; by then
// most of it is copied already. A failure (a full disk) is left for the next wake or the
// backstop.
#pragma once
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

struct sqlite3;

namespace kohtaamo {

class WalCheckpointer {
public:
    // Replaces `db`'s automatic checkpoint (its WAL hook) with this one; `file` is its
    // database file. Destroy this before closing `db`: it detaches itself, and its own
    // connection closes before the writer's, so the writer's close (the last) checkpoints.
    WalCheckpointer(sqlite3* db, std::string file, int wake_pages, int backstop_pages);
    ~WalCheckpointer();
    WalCheckpointer(const WalCheckpointer&) = delete;
    WalCheckpointer& operator=(const WalCheckpointer&) = delete;

private:
    // sqlite3_wal_hook's callback: after each commit, on the committing thread.
    static int on_commit(void* self, sqlite3* db, const char* schema, int pages);
    void run();

    sqlite3* db_;
    const std::string file_;
    const int wake_pages_, backstop_pages_;
    std::mutex mutex_;
    std::condition_variable wake_;
    bool wanted_ = false, stop_ = false;
    std::thread thread_;  // started at the first wake
};

}  // namespace kohtaamo
