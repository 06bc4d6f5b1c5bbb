#include "export_job.hpp"

namespace kohtaamo {

ExportJob::~ExportJob() {
    if (worker_.joinable()) worker_.join();
}

bool ExportJob::start(std::filesystem::path db, std::vector<Survey> surveys, std::filesystem::path folder,
                      ExportOptions options, std::function<void()> wake) {
    if (running_) return false;
    if (worker_.joinable()) worker_.join();
    running_ = true;
    progress_ = 0;
    worker_ = std::thread([this, db = std::move(db), surveys = std::move(surveys), folder = std::move(folder),
                           options = std::move(options), wake = std::move(wake)] {
        ExportResult r = export_to_folder(db, surveys, folder, options, [&](std::uint64_t done, std::uint64_t total) {
            progress_ = total ? static_cast<double>(done) / static_cast<double>(total) : 1.0;
            if (wake) wake();
            return true;
        });
        {
            std::lock_guard lock(mutex_);
            result_ = std::move(r);
        }
        running_ = false;
        if (wake) wake();
    });
    return true;
}

bool ExportJob::start(std::function<ExportResult()> work, std::function<void()> wake) {
    if (running_) return false;
    if (worker_.joinable()) worker_.join();
    running_ = true;
    progress_ = 0;
    worker_ = std::thread([this, work = std::move(work), wake = std::move(wake)] {
        ExportResult r = work();
        {
            std::lock_guard lock(mutex_);
            result_ = std::move(r);
        }
        running_ = false;
        if (wake) wake();
    });
    return true;
}

std::optional<ExportResult> ExportJob::take_result() {
    std::lock_guard lock(mutex_);
    auto r = std::move(result_);
    result_.reset();
    return r;
}

}  // namespace kohtaamo
