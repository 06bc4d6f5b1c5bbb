// kohtaamo-enroll — the one step that makes an installed kiosk this meeting point's:
//
//   kohtaamo-enroll --site kirjasto --collector https://keruu.example.fi/kohtaamo --token-file t
//   kohtaamo-enroll --from /media/usb/kohtaamo/kirjasto.toml      (the same, from a file)
//
// Checks everything before it writes anything: the site id (TomlReader's id rule), the
// collector's URL (the uploader's rule: https://, plain http:// only to loopback), that the
// collector answers and its TLS certificate verifies (the uploader's HttpClient), and that
// it accepts the token (GET /v1/device, sync/PROTOCOL.md); the new settings must load as
// the kiosk will load them (read_kiosk_config over the shared kiosk.toml). Only then it
// writes the device file that kiosk.toml names ([kiosk] device, /etc/kohtaamo/device.toml
// when installed): a temporary file made with mode 0600 and given to the kiosk's user,
// fsynced, renamed over the old one (the folder fsynced too). Run again, it replaces the
// whole file the same way. A CA file (--ca-file) is copied beside it under a name of its
// content, so the USB stick it came from can go.
//
// Exit codes: 0 enrolled; 2 wrong usage or a value that is refused (nothing was asked);
// 3 the collector cannot be reached or its certificate does not verify; 4 the collector
// refuses the token; 5 the URL answers, but not as a Kohtaamo collector; 1 cannot write.
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

#include <pwd.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "clock.hpp"
#include "config.hpp"
#include "config_error.hpp"
#include "bundle.hpp"
#include "http_client.hpp"
#include "output.hpp"
#include "protocol.hpp"
#include "sync_config.hpp"
#include "toml_reader.hpp"

using namespace kohtaamo;
using namespace kohtaamo::sync;

namespace {

struct Refusal {
    int code;
    std::string message;
};

struct Settings {
    std::string site, event, collector, token, ca_file, pin_hash, bundle_key;
    int rotation = 0;
    bool allow_plain_http = false;
};

std::string read_text(const std::filesystem::path& file, const std::string& what) {
    std::ifstream in(file, std::ios::binary);
    if (!in) throw Refusal{2, "cannot read " + what + " " + file.string() + ": " + std::strerror(errno)};
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

// The first line, without the line end and trailing spaces (what `kohtaamo-collector token` prints).
std::string first_line(const std::string& text) {
    std::string line = text.substr(0, text.find('\n'));
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    return line;
}

// A TOML basic string.
std::string quoted(const std::string& s) {
    return nlohmann::json(s).dump();  // JSON's escapes are TOML's for these characters
}

// --from FILE: the same settings as the options, keys named as in the device file's help.
void read_from_file(const std::filesystem::path& file, Settings& s, std::string& token_file, std::string& ca_file) {
    TomlReader r(file);
    r.only_keys(r.root(), {"site", "event", "collector", "token", "token_file", "ca_file", "pin_hash", "rotation",
                           "allow_plain_http", "bundle_key"},
                "");
    const auto& t = r.root();
    if (auto v = r.optional_string(t, "site", "")) s.site = *v;
    if (auto v = r.optional_string(t, "event", "")) s.event = *v;
    if (auto v = r.optional_string(t, "collector", "")) s.collector = *v;
    if (auto v = r.optional_string(t, "token", "")) s.token = *v;
    if (auto v = r.optional_string(t, "token_file", "")) token_file = r.resolve(t.get("token_file"), *v).string();
    if (auto v = r.optional_string(t, "ca_file", "")) ca_file = r.resolve(t.get("ca_file"), *v).string();
    if (auto v = r.optional_string(t, "pin_hash", "")) s.pin_hash = *v;
    if (auto v = r.optional_string(t, "bundle_key", "")) s.bundle_key = *v;
    s.rotation = static_cast<int>(r.integer_or(t, "rotation", s.rotation, ""));
    s.allow_plain_http = r.boolean_or(t, "allow_plain_http", s.allow_plain_http, "");
}

// Refuses a value before anything is asked of the network.
void check_values(const Settings& s) {
    if (s.site.empty()) throw Refusal{2, "--site is required: this meeting point's id, e.g. kirjasto"};
    if (!valid_id(s.site))
        throw Refusal{2, "--site \"" + s.site + "\" is not a valid id (use 1-64 of a-z, 0-9, _ and -)"};
    if (s.event.size() > 200 || s.event.find_first_of("\r\n\t") != std::string::npos)
        throw Refusal{2, "--event: at most 200 characters on one line"};
    if (s.collector.empty()) throw Refusal{2, "--collector is required: the collector's URL, e.g. https://keruu.example.fi/kohtaamo"};
    if (auto problem = endpoint_problem(s.collector, s.allow_plain_http)) throw Refusal{2, "--collector " + *problem};
    if (s.token.empty()) throw Refusal{2, "a token is required: --token-file FILE (from `kohtaamo-collector token NAME`)"};
    if (auto problem = token_problem(s.token)) throw Refusal{2, "the token: " + *problem};
    if (!s.pin_hash.empty() && s.pin_hash.rfind("$argon2", 0) != 0)
        throw Refusal{2, "--pin-hash must be a hash from `kohtaamo --hash-pin`, never the PIN itself"};
    if (!s.bundle_key.empty() && !public_key_problem(s.bundle_key).empty())
        throw Refusal{2, "--bundle-key: " + public_key_problem(s.bundle_key)};
    if (s.rotation != 0 && s.rotation != 90 && s.rotation != 180 && s.rotation != 270)
        throw Refusal{2, "--rotation must be 0, 90, 180 or 270 (degrees clockwise), not " + std::to_string(s.rotation)};
}

std::string device_text(const Settings& s, const std::string& ca_path) {
    std::ostringstream o;
    o << "# This kiosk's own settings, laid over the shared kiosk.toml (docs/configuration.md).\n"
      << "# Written by kohtaamo-enroll on " << iso8601_utc(Clock().wall_ms()).substr(0, 10)
      << "; run it again to change them (it replaces this file).\n\n"
      << "[device]\nsite = " << quoted(s.site) << "\nevent = " << quoted(s.event) << "\n\n"
      << "[sync]\nendpoint = " << quoted(s.collector) << "\ntoken = " << quoted(s.token) << "\n";
    if (!ca_path.empty()) o << "ca_file = " << quoted(ca_path) << "\n";
    if (s.allow_plain_http) o << "allow_plain_http = true\n";
    if (!s.bundle_key.empty()) o << "bundle_key = " << quoted(s.bundle_key) << "\n";
    if (!s.pin_hash.empty()) o << "\n[coordinator]\npin_hash = " << quoted(s.pin_hash) << "\n";
    if (s.rotation != 0) o << "\n[display]\nrotation = " << s.rotation << "\n";
    return o.str();
}

// What GET /v1/device said: the device's name, and the bundles' public key when the
// collector has one.
struct CollectorAnswer {
    std::string device, bundle_key;
};

// GET <collector>/v1/device with the token: the device's name on the collector, or a Refusal.
CollectorAnswer ask_collector(const SyncConfig& config) {
    HttpClient http(config, nullptr);
    const std::string url = config.endpoint + kDevicePath;
    HttpResult r = http.get(url, {"Authorization: Bearer " + config.token, "Accept: application/json"});
    if (!r.transport_ok) {
        if (r.tls_error)
            throw Refusal{3, "the collector's TLS certificate does not verify (" + r.error +
                                 "). Give the certificate of the CA that signed it with --ca-file, or fix the collector's certificate"};
        throw Refusal{3, "cannot reach the collector at " + config.endpoint + ": " + r.error};
    }
    std::string detail;
    try {
        const auto j = nlohmann::json::parse(r.body);
        if (j.is_object() && j.contains("message") && j["message"].is_string()) detail = j["message"].get<std::string>();
        if (r.status == 200 && j.is_object() && j.value("protocol", 0) == kProtocolVersion && j.contains("device") &&
            j["device"].is_string()) {
            CollectorAnswer a{j["device"].get<std::string>(), ""};
            if (j.contains("bundle_key") && j["bundle_key"].is_string() &&
                public_key_problem(j["bundle_key"].get<std::string>()).empty())
                a.bundle_key = j["bundle_key"].get<std::string>();
            return a;
        }
    } catch (const nlohmann::json::exception&) {
    }
    if (r.status == 401)
        throw Refusal{4, "the collector does not accept this token (401" + (detail.empty() ? "" : ": " + detail) +
                             "). Make one with `kohtaamo-collector token NAME`, add the [[device]] entry it prints to the "
                             "collector's config and reload it (systemctl reload kohtaamo-collector)"};
    if (r.status == 403)
        throw Refusal{4, "the collector has this kiosk's token disabled (403): set enabled = true in its [[device]] "
                         "entry and reload the collector, or make a new token"};
    if (r.status >= 300 && r.status < 400)
        throw Refusal{5, url + " redirects (HTTP " + std::to_string(r.status) + "): give the collector's own URL"};
    if (r.status == 404)
        throw Refusal{5, url + " is not there (404): " + config.endpoint +
                             " does not lead to a Kohtaamo collector (check the path, e.g. https://keruu.example.fi/kohtaamo)"};
    throw Refusal{5, url + " answered HTTP " + std::to_string(r.status) + " but not as a Kohtaamo collector" +
                         (r.body.empty() ? "" : ": " + first_line(r.body).substr(0, 120))};
}

struct Owner {
    bool change = false;
    uid_t uid = 0;
    gid_t gid = 0;
};

// Who gets the device file: the kiosk's user when we are root (the kiosk reads it, no one
// else may), else whoever runs this (a development or test root).
Owner owner_for(const std::string& user, bool user_given) {
    Owner o;
    if (::geteuid() != 0) {
        if (user_given) {
            const passwd* pw = ::getpwnam(user.c_str());
            if (!pw || pw->pw_uid != ::geteuid())
                throw Refusal{2, "--user " + user + ": only root can give the device file to another user"};
        }
        return o;
    }
    const passwd* pw = ::getpwnam(user.c_str());
    if (!pw)
        throw Refusal{2, "there is no user \"" + user + "\" for the kiosk to run as: is the kohtaamo-kiosk package installed? (or give --user)"};
    o.change = true;
    o.uid = pw->pw_uid;
    o.gid = pw->pw_gid;
    return o;
}

void write_atomically(const std::filesystem::path& file, const std::string& text, unsigned mode, const Owner& owner) {
    AtomicFile out(file.parent_path(), file.filename().string(), mode);
    if (owner.change) out.chown(owner.uid, owner.gid);
    out.write(text);
    out.finish();
    out.commit();
    sync_folder(file.parent_path());
}

int enrol(const std::filesystem::path& kiosk_toml, Settings s, const std::string& user, bool user_given) {
    check_values(s);
    const std::filesystem::path device = device_file_of(kiosk_toml);
    if (device.empty())
        throw Refusal{2, kiosk_toml.string() + " names no device file ([kiosk] device = \"device.toml\"): the "
                                               "installed /etc/kohtaamo/kiosk.toml does; this one keeps everything itself"};
    const Owner owner = owner_for(user, user_given);
    // The CA is checked where it is now and copied next to the device file afterwards.
    std::string ca_copy;
    std::string ca_text;
    if (!s.ca_file.empty()) {
        ca_text = read_text(s.ca_file, "the CA file");
        if (ca_text.find("-----BEGIN CERTIFICATE-----") == std::string::npos)
            throw Refusal{2, "--ca-file " + s.ca_file + " holds no PEM certificate (-----BEGIN CERTIFICATE-----)"};
        ca_copy = (device.parent_path() / ("collector-ca-" + hash_token(ca_text).substr(8, 16) + ".pem")).string();
    }
    // The settings as the kiosk will read them, over the shared kiosk.toml: a refusal here
    // names what is wrong before the network is asked.
    SyncConfig sync;
    try {
        const TomlReader files = read_kiosk_config_with(kiosk_toml, device, device_text(s, s.ca_file));
        load_device_config(files);
        sync = load_sync_config(files);
    } catch (const ConfigError& e) {
        throw Refusal{2, std::string("the settings would not load: ") + e.what()};
    }
    const CollectorAnswer answer = ask_collector(sync);
    const std::string& name = answer.device;
    // Without --bundle-key, the collector's own (over the connection and token just verified).
    std::string key_note;
    if (s.bundle_key.empty() && !answer.bundle_key.empty()) {
        s.bundle_key = answer.bundle_key;
        key_note = "Survey bundles: the collector's public key " + s.bundle_key + " (from the collector, over the "
                   "verified connection; --bundle-key gives another).\n";
    } else if (s.bundle_key.empty()) {
        key_note = "Survey bundles: off (the collector has no bundle.pub beside its config, and no --bundle-key was "
                   "given).\n";
    } else if (!answer.bundle_key.empty() && answer.bundle_key != s.bundle_key) {
        key_note = "Survey bundles: the --bundle-key given, not the collector's own (" + answer.bundle_key + ").\n";
    }

    try {
        if (!ca_copy.empty()) write_atomically(ca_copy, ca_text, 0644, Owner{});
        write_atomically(device, device_text(s, ca_copy), 0600, owner);
    } catch (const OutputError& e) {
        std::cerr << "kohtaamo-enroll: " << e.what() << "\n";
        return 1;
    }
    std::cout << "kohtaamo-enroll: enrolled: the collector at " << s.collector << " knows this kiosk as \"" << name
              << "\"; site " << s.site << (s.event.empty() ? "" : ", event " + s.event) << ".\n"
              << key_note << "Wrote " << device.string() << ". Start the kiosk, or restart it to use the new settings:\n"
              << "  systemctl enable --now kohtaamo-kiosk    (or: systemctl restart kohtaamo-kiosk)\n";
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"Kohtaamo enrolment: check the collector and this kiosk's token, then write the kiosk's own settings"};
    std::string config = default_kiosk_config().string();
    std::string from, token_file, ca_file, user = "kohtaamo";
    bool token_stdin = false;
    Settings cli;
    int rotation = -1;
    app.add_option("--from", from, "Read the settings from a file (TOML: site, event, collector, token_file, ca_file, "
                                   "pin_hash, rotation), e.g. on a USB stick; options given as well override it")
        ->check(CLI::ExistingFile);
    app.add_option("--site", cli.site, "This meeting point's id (a-z, 0-9, _ and -), stored with every answer");
    app.add_option("--event", cli.event, "A pop-up event's tag (empty at a meeting point)");
    app.add_option("--collector", cli.collector, "The collector's URL, e.g. https://keruu.example.fi/kohtaamo");
    app.add_option("--token-file", token_file, "A file whose first line is this kiosk's token (`kohtaamo-collector token NAME`)");
    app.add_flag("--token-stdin", token_stdin, "Read the token from standard input instead");
    app.add_option("--ca-file", ca_file, "PEM file of the CA that signed the collector's certificate (copied to the kiosk)");
    app.add_option("--pin-hash", cli.pin_hash, "The coordinator PIN's hash (`echo NNNN | kohtaamo --hash-pin`)");
    app.add_option("--rotation", rotation, "Degrees clockwise the picture is turned: 90 or 270 for a panel mounted in portrait");
    app.add_option("--bundle-key", cli.bundle_key,
                   "The collector's survey-bundle public key (its bundle.pub, `kohtaamo-collector bundle-keys`); default: "
                   "the one the collector gives (bundle.pub beside its config)");
    app.add_flag("--allow-plain-http", cli.allow_plain_http, "Allow http:// to a collector on a trusted LAN (not loopback)");
    app.add_option("--config", config, "The shared kiosk.toml (it names the device file)")->capture_default_str();
    auto* user_opt = app.add_option("--user", user, "The user the kiosk runs as, who gets the device file (when run as root)")
                         ->capture_default_str();
    CLI11_PARSE(app, argc, argv);

    try {
        Settings s;
        std::string from_token_file, from_ca_file;
        if (!from.empty()) {
            try {
                read_from_file(from, s, from_token_file, from_ca_file);
            } catch (const ConfigError& e) {
                throw Refusal{2, e.what()};
            }
        }
        // What the command line gives overrides the file.
        if (!cli.site.empty()) s.site = cli.site;
        if (!cli.event.empty()) s.event = cli.event;
        if (!cli.collector.empty()) s.collector = cli.collector;
        if (!cli.pin_hash.empty()) s.pin_hash = cli.pin_hash;
        if (!cli.bundle_key.empty()) s.bundle_key = cli.bundle_key;
        if (rotation >= 0) s.rotation = rotation;
        if (cli.allow_plain_http) s.allow_plain_http = true;
        if (!token_file.empty()) from_token_file = token_file;
        if (!ca_file.empty()) from_ca_file = ca_file;
        if (token_stdin) {
            std::string line;
            std::getline(std::cin, line);
            s.token = first_line(line);
        } else if (!from_token_file.empty()) {
            s.token = first_line(read_text(from_token_file, "the token file"));
        }
        s.ca_file = from_ca_file;
        while (!s.collector.empty() && s.collector.back() == '/') s.collector.pop_back();
        return enrol(config, s, user, user_opt->count() > 0);
    } catch (const Refusal& r) {
        std::cerr << "kohtaamo-enroll: refused, nothing written: " << r.message << "\n";
        return r.code;
    } catch (const ConfigError& e) {
        std::cerr << "kohtaamo-enroll: refused, nothing written: " << e.what() << "\n";
        return 2;
    }
}
