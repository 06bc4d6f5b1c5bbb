#include "catalog_keys.hpp"

namespace kohtaamo {

const std::vector<std::string>& catalog_keys() {
    static const std::vector<std::string> keys = [] {
        std::vector<std::string> k = {
            // the visitor's screens
            "welcome_title", "choose_title", "back", "next", "skip", "done", "pick_many", "listen", "thanks_title",
            "thanks_text", "save_failed", "news_title", "resting", "resting_staff",
            // the year-clock
            "yc_pick_month", "yc_events", "yc_no_events", "yc_come", "yc_wish", "yc_idea", "yc_idea_title", "yc_idea_save",
            // the coordinator
            "pin_title", "pin_wrong", "pin_locked", "cancel", "staff_title", "staff_today", "staff_total",
            "staff_abandoned", "staff_sync_off", "staff_sync_pending", "staff_sync_last", "staff_sync_never",
            "staff_sync_auth", "staff_export", "staff_exporting", "staff_export_done", "staff_export_no_drive", "staff_bundle_ready", "staff_bundle_refused",
            "staff_export_read_only", "staff_export_full", "staff_close", "staff_quit", "staff_wishes",
            "staff_unlock_title", "staff_unlock_hint", "staff_unlock_open", "staff_unlock_skip", "staff_unlock_wrong"};
        for (int i = 1; i <= 3; ++i) k.push_back("smiley_3_" + std::to_string(i));
        for (int i = 1; i <= 5; ++i) k.push_back("smiley_5_" + std::to_string(i));
        for (int i = 1; i <= 5; ++i) k.push_back("agree_" + std::to_string(i));
        for (int i = 1; i <= 12; ++i) k.push_back("month_" + std::to_string(i));
        for (int i = 1; i <= 12; ++i) k.push_back("month_short_" + std::to_string(i));
        for (int i = 1; i <= 3; ++i) k.push_back("keys_" + std::to_string(i));
        for (int i = 1; i <= 3; ++i) k.push_back("keys_shift_" + std::to_string(i));
        return k;
    }();
    return keys;
}

}  // namespace kohtaamo
