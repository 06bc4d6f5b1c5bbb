// export_job.hpp — an export started from the coordinator's screen, run on a worker thread
// so the screen keeps drawing its progress bar. The UI thread polls progress() and
// result(); the worker wakes the UI loop through `wake` as rows go out.
#pragma once
#include <atomic>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

#include "export.hpp"

namespace kohtaamo {

class ExportJob {
public:
    ~ExportJob();
    // Starts exporting `db` into `folder`; only one at a time (false if one runs).
    bool start(std::filesystem::path db, std::vector<Survey> surveys, std::filesystem::path folder,
               ExportOptions options, std::function<void()> wake);
    // Runs `work` on the worker instead (the sealed delivery file, sync/delivery.hpp).
    bool start(std::function<ExportResult()> work, std::function<void()> wake);
    bool running() const { return running_; }
    double progress() const { return progress_; }
    // The finished export's result, once (then cleared).
    std::optional<ExportResult> take_result();

private:
    std::thread worker_;
    std::atomic<bool> running_{false};
    std::atomic<double> progress_{0};
    std::mutex mutex_;
    std::optional<ExportResult> result_;
};

}  // namespace kohtaamo
