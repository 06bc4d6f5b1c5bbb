#include "kiosk_scene.hpp"

#include <algorithm>
#include <cstdio>
#include <set>
#include <stdexcept>
#include <unistd.h>

#include <sodium.h>

#include "seal.hpp"
#include "sqlite.hpp"
#include "utf8.hpp"

namespace kohtaamo {

void check_media(const std::vector<Survey>& surveys, const std::vector<NewsItem>& news, platform::Pictures& pictures) {
    std::vector<const IconRef*> icons;
    for (const auto& s : surveys)
        for (const auto& i : s.icons) icons.push_back(&i);
    for (const auto& n : news) icons.push_back(&n.icon_at);
    std::unique_ptr<platform::EmojiFont> font;
    for (const IconRef* i : icons) {
        if (is_picture_file(i->icon)) {
            try {
                pictures.add(i->icon);
            } catch (const std::runtime_error& e) {
                throw ConfigError(i->file, i->line, i->column, i->where + ": the picture " + i->icon + " cannot be shown: " + e.what());
            }
            continue;
        }
        if (!font) font = std::make_unique<platform::EmojiFont>();
        const auto shape = font->shape(i->icon);
        if (shape.missing > 0 || shape.glyphs == 0)
            throw ConfigError(i->file, i->line, i->column, i->where + " \"" + i->icon +
                                                               "\": the emoji font (Noto Color Emoji) has no picture for it");
        if (shape.glyphs != 1)
            throw ConfigError(i->file, i->line, i->column,
                              i->where + " \"" + i->icon + "\" is not one picture: the emoji font draws it as " +
                                  std::to_string(shape.glyphs) + " pictures (write one emoji, or a sequence the font joins)");
        if (!font->picture(i->icon))
            throw ConfigError(i->file, i->line, i->column, i->where + " \"" + i->icon +
                                                               "\": the emoji font has no colour picture for it");
    }
}

std::vector<std::string> check_fit(const DeviceConfig& config, const std::vector<Survey>& surveys, const Catalog& texts,
                                   const std::vector<NewsItem>& news) {
    Clock clock;
    platform::App app(platform::AppOptions{true, false, true, 800, 480}, clock);
    const auto dir = std::filesystem::temp_directory_path() / ("kohtaamo-check-" + std::to_string(getpid()));
    DeviceConfig plain = config;
    plain.one_question.clear();
    std::set<std::pair<std::string, std::string>> cut;  // (language, text) drawn cut
    {
        Store store(dir / "check.sqlite", clock.wall_ms());
        auto look = [&](Session& session, const std::vector<NewsItem>& shown, const std::function<void()>& step) {
            KioskScene scene(session, store, session.one_question() ? config : plain, texts, clock);
            scene.set_news(shown);
            step();
            session.input();  // no idle timeout in between
            app.frame(scene);
            for (const auto& t : app.registry())
                if (t.truncated) cut.emplace(session.language(), t.text);
        };
        for (const auto& lang : config.languages) {
            // The welcome screen, with each "you said, we did" message in this language.
            std::vector<std::string> turns;
            for (const auto& l : config.languages)
                if (base_language(l).empty() ||
                    std::find(config.languages.begin(), config.languages.end(), base_language(l)) == config.languages.end())
                    turns.push_back(l);
            const auto turn = std::find(turns.begin(), turns.end(), lang) - turns.begin();
            {
                Session session(plain, surveys, store, clock);
                look(session, {}, [&] { session.choose_language(lang); });
                const auto count = static_cast<std::int64_t>(turns.size());
                for (const auto& n : news)
                    if (turn < count)
                        look(session, {n}, [&] {
                            // One message in turn: the slot of this language comes every `count` steps.
                            const std::int64_t step = (clock.mono_ms() - session.screen_since_ms()) / kNewsMs;
                            clock.advance((((turn - step) % count + count) % count) * kNewsMs);
                        });
            }
            if (!config.one_question.empty()) {
                Session session(config, surveys, store, clock);
                look(session, {}, [&] { session.choose_language(lang); });
            }
            for (const auto& s : surveys) {
                if (s.yearclock) {
                    // The year-clock's months, with every event still to come.
                    std::vector<Survey> one{s};
                    for (auto& e : one[0].yearclock->events) e.date = "2999" + e.date.substr(4);
                    Session session(plain, one, store, clock);
                    look(session, {}, [&] {
                        session.choose_language(lang);
                        session.choose_survey(s.id);
                    });
                    for (int m = 1; m <= 12; ++m) look(session, {}, [&] { session.open_month(m); });
                    if (s.yearclock->ideas) look(session, {}, [&] { session.open_idea(); });
                    session.reset();
                    continue;
                }
                for (const auto& q : s.questions) {
                    // Each question on its own (show_if would hide some), then the thank-you.
                    std::vector<Survey> one{s};
                    one[0].questions = {q};
                    one[0].questions[0].show_if.reset();
                    Session session(plain, one, store, clock);
                    look(session, {}, [&] {
                        session.choose_language(lang);
                        session.choose_survey(s.id);
                    });
                    if (q.single_tap() && &q == &s.questions.back())
                        look(session, {}, [&] {
                            session.answer(q.allowed_values().front());
                            clock.advance(Session::kAdvanceMs);
                            session.tick();
                        });
                    session.reset();
                }
            }
        }
    }
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);

    // Where each cut text comes from.
    std::vector<const TextRef*> refs;
    for (const auto& s : surveys)
        for (const auto& t : s.texts) refs.push_back(&t);
    for (const auto& n : news)
        for (const auto& t : n.texts) refs.push_back(&t);
    for (const auto& t : texts.text_refs()) refs.push_back(&t);
    std::vector<std::string> out;
    std::set<std::string> said;
    for (const auto& [lang, shown] : cut) {
        for (const TextRef* r : refs) {
            if (r->text != shown) continue;
            const std::string line = to_string(*r) + ": " + r->lang + " text for " + r->where +
                                     " will not fit at 800x480 even at the smallest size (" +
                                     std::to_string(utf8_decode(r->text).value_or(std::vector<char32_t>{}).size()) +
                                     " characters): it is cut with \"…\"; shorten it";
            if (said.insert(line).second) out.push_back(line);
        }
    }
    return out;
}

void check_sounds(const std::vector<Survey>& surveys) {
    for (const auto& s : surveys)
        for (const auto& q : s.questions)
            for (const auto& [lang, file] : q.sound.files) {
                try {
                    platform::decode_wav(file);
                } catch (const std::runtime_error& e) {
                    const auto at = q.sound.at.find(lang);
                    throw ConfigError(s.file, at == q.sound.at.end() ? 0 : at->second.line,
                                      at == q.sound.at.end() ? 0 : at->second.column,
                                      "question \"" + q.id + "\".sound." + lang + ": cannot play " + file + ": " + e.what());
                }
            }
}

KioskScene::KioskScene(Session& session, Store& store, const DeviceConfig& config, const Catalog& texts, Clock& clock,
                       ExportConfig export_config)
    : session_(session), store_(store), config_(config), texts_(texts), clock_(clock), export_config_(std::move(export_config)),
      pin_lock_(config.pin_hash, store.handle()) {}

void KioskScene::draw(const ui::Metrics& m, const ui::Fonts& fonts, const ui::IconLookup& icon, ui::Registry& reg) {
    const double since = static_cast<double>(clock_.mono_ms() - session_.screen_since_ms()) / 1000.0;
    if (mode_ == Mode::Pin) {
        ui::Frame f{m, fonts, texts_, icon, config_.languages.front(), reg, since};
        f.rtl = texts_.rtl(config_.languages.front());
        if (pin_lock_.locked_for(clock_.wall_ms()) > 0) {
            char buf[160];
            std::snprintf(buf, sizeof buf, "%s %lld s", f.t("pin_locked").c_str(),
                          static_cast<long long>((pin_lock_.locked_for(clock_.wall_ms()) + 999) / 1000));
            pin_message_ = buf;
        }
        ui::PinView v{static_cast<int>(pin_.size()), pin_message_, pin_lock_.locked_for(clock_.wall_ms()) > 0};
        if (ui::Action a = ui::pin_screen(f, v)) apply_staff(a);
        return;
    }
    if (mode_ == Mode::Staff) {
        ui::Frame f{m, fonts, texts_, icon, config_.languages.front(), reg, since};
        f.rtl = texts_.rtl(config_.languages.front());
        if (auto r = export_.take_result()) {
            switch (r->status) {
                case ExportStatus::Ok:
                    export_message_ = f.t("staff_export_done") + " " + std::to_string(r->responses) + " · " +
                                      (r->files.empty() ? "" : r->files.front().parent_path().string());
                    break;
                case ExportStatus::NoDrive: export_message_ = f.t("staff_export_no_drive"); break;
                case ExportStatus::DriveFull: export_message_ = f.t("staff_export_full"); break;
                case ExportStatus::ReadOnly: export_message_ = f.t("staff_export_read_only"); break;
                default: export_message_ = r->message; break;
            }
            stats_ = read_stats(store_.handle(), clock_.wall_ms(), {});
        }
        if (unlock_) {
            ui::UnlockView u;
            u.key_name = unlock_->key_file.filename().string();
            u.typed = static_cast<int>(utf8_split(std::string_view(unlock_->passphrase.data(), unlock_->typed))
                                           .value_or(std::vector<std::string>{})
                                           .size());
            u.message = unlock_->message;
            u.shift = unlock_->shift;
            if (ui::Action a = ui::unlock_screen(f, u)) apply_unlock(a);
            return;
        }
        ui::StaffView v{stats_, session_.surveys(), export_message_, export_.running() ? export_.progress() : -1};
        v.warnings = store_.notices();
        v.warnings.insert(v.warnings.end(), warnings_.begin(), warnings_.end());
        if (!resting_.empty()) v.warnings.insert(v.warnings.begin(), texts_.get(config_.languages.front(), "resting_staff") + " " + resting_);
        if (ui::Action a = ui::staff_screen(f, v)) apply_staff(a);
        return;
    }

    if (!resting_.empty()) {
        ui::Frame f{m, fonts, texts_, icon, config_.languages.front(), reg, since};
        std::vector<std::string> lines;
        for (const auto& l : config_.languages) lines.push_back(texts_.get(l, "resting"));
        ui::resting_screen(f, lines, resting_);
        if (ui::staff_corner(f) && pin_lock_.configured()) enter(Mode::Pin);
        return;
    }
    ui::Frame f{m, fonts, texts_, icon, session_.language(), reg, since};
    f.rtl = texts_.rtl(session_.language());
    const bool sound = audio_ && audio_->state() != platform::Audio::State::Off;
    ui::Action a = ui::draw(f, ui::View{session_, shift_, &news_, sound}, config_.languages);
    if (session_.screen() == Screen::Welcome && ui::staff_corner(f) && pin_lock_.configured())
        a = {ui::Action::OpenStaff, ""};
    if (!save_error_.empty()) {
        // A staff-readable banner across the top: the answer was not saved.
        ImGui::GetWindowDrawList()->AddRectFilled(ImVec2(0, 0), ImVec2(m.width, m.font * 1.6f),
                                                  ui::colour::rgb(ui::colour::kError));
        ui::text_centred(f, fonts.small, m.small, m.pad, m.width - m.pad, m.font * 0.3f, ui::colour::kOnPrimary,
                         texts_.get(session_.language(), "save_failed"), 1);
    }
    if (a) apply(a);
    follow_sound();
}

std::string KioskScene::sound_file() const {
    const Question* q = session_.screen() == Screen::Question ? session_.question() : nullptr;
    if (!q || q->sound.empty()) return "";
    return text_in(q->sound.files, session_.language(), config_.fallback_language);
}

void KioskScene::follow_sound() {
    // What is on screen, as far as sound goes: the mode, the screen, and on a question
    // the survey, the question and the language.
    const bool visitor = mode_ == Mode::Visitor;
    std::string key = visitor ? to_string(session_.screen()) : "coordinator";
    if (visitor && session_.screen() == Screen::Question && session_.survey())
        key += "/" + session_.survey()->id + "/" + std::to_string(session_.question_index()) + "/" + session_.language();
    if (key == sound_key_) return;
    sound_key_ = key;
    if (!audio_) return;
    const std::string file = visitor ? sound_file() : "";
    if (!file.empty()) audio_->play(file);
    else if (!visitor || session_.screen() == Screen::Welcome) audio_->release();
    else audio_->stop();
}

void KioskScene::notice_finish(Screen before) {
    // A response was finished: the visitor left the questions or the year-clock, or the
    // event mode's one answer took the welcome screen to the thank-you.
    const Screen now = session_.screen();
    if (finished_ && now != before &&
        (before == Screen::Question || before == Screen::YearClock || (before == Screen::Welcome && now == Screen::ThankYou)))
        finished_();
}

void KioskScene::enter(Mode m) {
    mode_ = m;
    staff_input_ms_ = clock_.mono_ms();
    pin_.clear();
    pin_message_.clear();
    forget_unlock();
    if (m == Mode::Staff) {
        std::vector<std::string> order;
        for (const auto& s : session_.surveys()) order.push_back(s.id);
        stats_ = read_stats(store_.handle(), clock_.wall_ms(), order);
        export_message_.clear();
        if (staff_open_) export_message_ = staff_open_(session_.language());
    }
}

void KioskScene::apply(const ui::Action& a) {
    const Screen before = session_.screen();
    try {
        switch (a.kind) {
            case ui::Action::Language: session_.choose_language(a.value); break;
            case ui::Action::Survey: session_.choose_survey(a.value); break;
            case ui::Action::Answer: session_.answer(a.value); break;
            case ui::Action::Toggle: session_.toggle(a.value); break;
            case ui::Action::Next:
                // The keyboard's Next closes a year-clock idea (saving it).
                if (session_.screen() == Screen::YearClock) session_.close_idea();
                else session_.next();
                break;
            case ui::Action::Back: session_.back(); break;
            case ui::Action::Listen:
                if (const std::string file = sound_file(); audio_ && !file.empty()) audio_->play(file);
                break;
            case ui::Action::Type:
                session_.type(a.value);
                shift_ = false;  // one letter, as on a phone
                break;
            case ui::Action::Erase: session_.erase(); break;
            case ui::Action::Shift: shift_ = !shift_; break;
            case ui::Action::Month: session_.open_month(std::stoi(a.value)); break;
            case ui::Action::Wish: session_.wish(session_.open_month(), a.value); break;
            case ui::Action::Come: session_.come(a.value); break;
            case ui::Action::Idea: session_.open_idea(); break;
            case ui::Action::Done: session_.done(); break;
            case ui::Action::OpenStaff: enter(Mode::Pin); break;
            default: break;
        }
        if (a.kind == ui::Action::Answer || a.kind == ui::Action::Toggle || a.kind == ui::Action::Wish ||
            a.kind == ui::Action::Come)
            save_error_.clear();
        notice_finish(before);
    } catch (const StoreError& e) {
        // The answer is not in the store: the kiosk rests until it can write again.
        rest(e);
    }
}

void KioskScene::rest(const StoreError& e) {
    if (resting_.empty()) std::fprintf(stderr, "kohtaamo: %s; resting, trying again every %lld s\n", e.what(),
                                       static_cast<long long>(kRetryMs / 1000));
    resting_ = e.what();
    retry_at_ms_ = clock_.mono_ms() + kRetryMs;
    if (audio_) audio_->release();
    sound_key_.clear();
}

bool KioskScene::try_resume() {
    if (clock_.mono_ms() < retry_at_ms_) return false;
    try {
        store_.probe();
        const Screen before = session_.screen();
        session_.reset();  // the visitor's open response: finished as abandoned, answers kept
        notice_finish(before);
    } catch (const StoreError& e) {
        resting_ = e.what();
        retry_at_ms_ = clock_.mono_ms() + kRetryMs;
        return true;  // the reason shown may have changed
    }
    std::fprintf(stderr, "kohtaamo: the store writes again; the kiosk resumes\n");
    resting_.clear();
    save_error_.clear();
    follow_sound();
    return true;
}

void KioskScene::apply_staff(const ui::Action& a) {
    switch (a.kind) {
        case ui::Action::Digit:
            pin_message_.clear();
            if (pin_.size() < 12) pin_ += a.value;
            break;
        case ui::Action::Erase:
            if (!pin_.empty()) pin_.pop_back();
            break;
        case ui::Action::PinOk: {
            auto r = pin_lock_.verify(pin_, clock_.wall_ms());
            pin_.clear();
            if (r == PinLock::Result::Ok) {
                enter(Mode::Staff);
            } else {
                pin_message_ = texts_.get(config_.languages.front(), "pin_wrong");
                std::fprintf(stderr, "kohtaamo: wrong coordinator PIN (%d in a row)\n", pin_lock_.failures());
            }
            break;
        }
        case ui::Action::Close: enter(Mode::Visitor); break;
        case ui::Action::Export: start_export(); break;
        case ui::Action::Quit: quit_ = true; break;
        default: break;
    }
}

void KioskScene::start_export() {
    const std::string& lang = config_.languages.front();
    auto drives = find_removable_drives(export_config_.drive);
    if (drives.empty()) {
        export_message_ = texts_.get(lang, "staff_export_no_drive");
        return;
    }
    const Drive& d = drives.front();
    if (d.read_only) {
        export_message_ = texts_.get(lang, "staff_export_read_only") + " " + d.label;
        return;
    }
    ExportOptions o;
    o.csv_style = export_config_.csv_style;
    o.xlsx = true;  // the workbook a coordinator opens in Excel, beside the CSVs
    o.min_group = export_config_.min_group;
    o.filter.free_text = export_config_.free_text;
    o.report_language = export_config_.report_language.value_or(lang);
    o.now_ms = clock_.wall_ms();
    o.texts_dir = config_.texts_dir;
    o.name = "kohtaamo-" + config_.site + "-" + iso8601_utc(o.now_ms).substr(0, 10);
    export_message_.clear();
    // Sealed answers (docs/security.md): without the key the stick gets the sealed delivery
    // file alone, which the collector imports as if the kiosk had synced.
    bool sealed = store_.sealing();
    try {
        sealed = sealed || holds_sealed_answers(store_.handle());
    } catch (const SqliteError&) {
        sealed = true;  // cannot tell: never write clear files then
    }
    if (sealed && delivery_) {
        // A locked key file at the stick's top (`kohtaamo-collector wrap-key`): ask for its
        // passphrase first; the readable files go beside the delivery file.
        std::vector<std::filesystem::path> keys;
        std::error_code ec;
        for (const auto& e : std::filesystem::directory_iterator(d.path, ec))
            if (e.path().extension() == ".key" && e.is_regular_file(ec) && is_wrapped_key_file(e.path()))
                keys.push_back(e.path());
        if (!keys.empty()) {
            std::sort(keys.begin(), keys.end());
            unlock_.emplace();
            unlock_->key_file = keys.front();
            unlock_->folder = d.path;
            unlock_->options = o;
            return;
        }
        start_sealed_export(d.path, o, nullptr);
        return;
    }
    export_.start(store_.path(), session_.surveys(), d.path, o, wake_);
}

void KioskScene::forget_unlock() {
    if (!unlock_) return;
    sodium_memzero(unlock_->passphrase.data(), unlock_->passphrase.size());
    unlock_.reset();
}

void KioskScene::apply_unlock(const ui::Action& a) {
    Unlock& u = *unlock_;
    switch (a.kind) {
        case ui::Action::Type:
            if (u.typed + a.value.size() <= u.passphrase.size()) {
                std::copy(a.value.begin(), a.value.end(), u.passphrase.begin() + static_cast<std::ptrdiff_t>(u.typed));
                u.typed += a.value.size();
            }
            u.shift = false;  // one letter, as on a phone
            break;
        case ui::Action::Erase:
            // One character (its UTF-8 continuation bytes, then its first).
            while (u.typed > 0 && (static_cast<unsigned char>(u.passphrase[u.typed - 1]) & 0xC0) == 0x80)
                u.passphrase[--u.typed] = 0;
            if (u.typed > 0) u.passphrase[--u.typed] = 0;
            break;
        case ui::Action::Shift: u.shift = !u.shift; break;
        case ui::Action::Back: {  // skip: the delivery file alone, as without a key
            const std::filesystem::path folder = u.folder;
            const ExportOptions o = u.options;
            forget_unlock();
            start_sealed_export(folder, o, nullptr);
            break;
        }
        case ui::Action::Next: {
            std::string passphrase(u.passphrase.data(), u.typed);
            sodium_memzero(u.passphrase.data(), u.passphrase.size());
            u.typed = 0;
            auto keys = std::make_shared<SealKeyring>();
            try {
                keys->add(load_seal_key_file(u.key_file, passphrase));
            } catch (const SealError& e) {
                sodium_memzero(passphrase.data(), passphrase.size());
                const std::string what = e.what();
                u.message = what.find("passphrase does not open") != std::string::npos
                                ? texts_.get(config_.languages.front(), "staff_unlock_wrong")
                                : what;
                std::fprintf(stderr, "kohtaamo: the key file %s was not opened: %s\n", u.key_file.c_str(), e.what());
                break;
            }
            sodium_memzero(passphrase.data(), passphrase.size());
            const std::filesystem::path folder = u.folder;
            const ExportOptions o = u.options;
            forget_unlock();
            start_sealed_export(folder, o, std::move(keys));
            break;
        }
        default: break;
    }
}

void KioskScene::start_sealed_export(const std::filesystem::path& folder, const ExportOptions& o,
                                     std::shared_ptr<const SealKeyring> keys) {
    // The worker holds the only reference to the keyring: it (and the secret, which
    // SealSecretKey's destructor wipes) goes when the export is done.
    export_.start(
        [w = delivery_, folder, o, keys = std::move(keys), db = store_.path(), surveys = session_.surveys()]() mutable {
            ExportResult delivered = w(folder, o.name);
            if (!keys || !delivered.ok()) return delivered;
            ExportResult r;
            try {
                // As kohtaamo-export --key opens a sealed kiosk database: a copy in memory.
                auto open = open_sealed_export_database(db, *keys);
                keys.reset();
                r = export_to_folder(*open, surveys, folder, o);
            } catch (const std::exception& e) {
                keys.reset();
                r.status = ExportStatus::DatabaseError;
                r.message = e.what();
            }
            r.files.insert(r.files.begin(), delivered.files.begin(), delivered.files.end());
            return r;
        },
        wake_);
}

bool KioskScene::tick() {
    const auto before = std::make_pair(session_.screen(), session_.question_index());
    if (mode_ != Mode::Visitor) {
        // Staff screens time out too: a coordinator who walks away leaves nothing open.
        if (!export_.running() && clock_.mono_ms() - staff_input_ms_ >= config_.idle_timeout_ms) {
            enter(Mode::Visitor);
            return true;
        }
        return false;
    }
    if (!resting_.empty()) return try_resume();
    try {
        session_.tick();  // the idle timeout and the thank-you timer write too
    } catch (const StoreError& e) {
        rest(e);
        return true;
    }
    notice_finish(before.first);
    follow_sound();
    bool changed = before != std::make_pair(session_.screen(), session_.question_index());
    if (session_.screen() == Screen::Welcome && !news_.empty()) {
        const std::int64_t step = (clock_.mono_ms() - session_.screen_since_ms()) / kNewsMs;
        changed = changed || step != news_step_;
        news_step_ = step;
    }
    return changed;
}

std::optional<std::int64_t> KioskScene::deadline() const {
    if (mode_ == Mode::Visitor && !resting_.empty()) return retry_at_ms_;
    if (mode_ == Mode::Pin && pin_lock_.locked_for(clock_.wall_ms()) > 0)
        return clock_.mono_ms() + 1000;  // the lock-out countdown
    if (mode_ != Mode::Visitor) return staff_input_ms_ + config_.idle_timeout_ms;
    auto due = session_.next_deadline();  // on the welcome screen: a language to reset, an event answer
    if (session_.screen() == Screen::Welcome && news_.size() * config_.languages.size() > 1) {
        // Wake for the next "you said, we did" message (every kNewsMs), and only then.
        const std::int64_t shown = clock_.mono_ms() - session_.screen_since_ms();
        const std::int64_t next = session_.screen_since_ms() + (shown / kNewsMs + 1) * kNewsMs;
        due = due ? std::min(*due, next) : next;
    }
    return due;
}

bool KioskScene::animating() const {
    if (mode_ == Mode::Staff) return export_.running();
    return mode_ == Mode::Visitor && session_.screen() == Screen::ThankYou &&
           static_cast<double>(clock_.mono_ms() - session_.screen_since_ms()) / 1000.0 < ui::thanks_animation_seconds();
}

void KioskScene::input() {
    if (mode_ == Mode::Visitor) session_.input();
    else staff_input_ms_ = clock_.mono_ms();
}

void KioskScene::reset() {
    // Leave whatever screen failed; an open response is finished as abandoned.
    mode_ = Mode::Visitor;
    const Screen before = session_.screen();
    try {
        session_.reset();
    } catch (const StoreError& e) {
        rest(e);
        return;
    }
    notice_finish(before);
    follow_sound();
}

StoreWaitScene::StoreWaitScene(const Catalog& texts, std::vector<std::string> languages, Clock& clock,
                               std::function<void()> open, std::string reason)
    : texts_(texts), languages_(std::move(languages)), clock_(clock), open_(std::move(open)), reason_(std::move(reason)),
      retry_at_ms_(clock.mono_ms() + KioskScene::kRetryMs) {}

void StoreWaitScene::draw(const ui::Metrics& m, const ui::Fonts& fonts, const ui::IconLookup& icon, ui::Registry& reg) {
    ui::Frame f{m, fonts, texts_, icon, languages_.front(), reg, 0};
    std::vector<std::string> lines;
    for (const auto& l : languages_) lines.push_back(texts_.get(l, "resting"));
    ui::resting_screen(f, lines, reason_);
}

bool StoreWaitScene::tick() {
    if (opened_ || clock_.mono_ms() < retry_at_ms_) return false;
    try {
        open_();
        opened_ = true;
    } catch (const StoreError& e) {
        reason_ = e.what();
        retry_at_ms_ = clock_.mono_ms() + KioskScene::kRetryMs;
    }
    return true;
}

void ErrorScene::draw(const ui::Metrics& m, const ui::Fonts& fonts, const ui::IconLookup& icon, ui::Registry& reg) {
    static const Catalog none;
    static const std::string lang = "en";
    ui::Frame f{m, fonts, none, icon, lang, reg, 0};
    if (ui::config_error_screen(f, message_)) closed_ = true;
}

}  // namespace kohtaamo
