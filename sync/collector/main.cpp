// kohtaamo-collector — the central endpoint kiosks send their answers to.
//
//   kohtaamo-collector --config config/collector.toml              serve (until SIGTERM/SIGINT)
//   kohtaamo-collector --config config/collector.toml export --out DIR [--half-year 2026H1] ...
//                                                                    the same files as kohtaamo-export
//   kohtaamo-collector token NAME                                    a new device token
//   kohtaamo-collector token --export NAME                           a new export token (GET /v1/export)
//   kohtaamo-collector hash-token < token.txt                        the hash of a token
//   kohtaamo-collector keys --id k1 --secret FILE                    a key pair for sealed answers
//                                                                    (secret half to FILE, 0600)
//   kohtaamo-collector wrap-key --secret FILE --out STICK/k1.key     the secret key locked with a passphrase
//                                                                    (stdin) for a coordinator's stick
//   kohtaamo-collector --config config/collector.toml import FILE   a kiosk's sealed delivery file, as if synced
//   kohtaamo-collector --config config/collector.toml migrate --to postgresql://…
//                                                                    copy a SQLite collector database into
//                                                                    PostgreSQL, then check the copy
//
//   kohtaamo-collector bundle-keys DIR                               the bundle signing keypair
//   kohtaamo-collector --config config/collector.toml publish DIR --all | --site S [--key FILE]
//                                                                    a new signed survey bundle
//   kohtaamo-collector --config config/collector.toml status        every kiosk's bundle version and refusal
//   kohtaamo-collector --config config/collector.toml account add NAME [--sites a,b]
//                                                                    a coordinator's login to the web page
//                                                                    (the password on stdin); also account
//                                                                    list, account remove NAME, account unlock NAME
//
// SIGHUP re-reads the [[device]] and [[export_token]] lists (add or disable a kiosk or a
// coordinator without a restart) and publishes them to the database: every collector
// serving the same database takes them within a second.
#include <csignal>
#include <iostream>
#include <thread>

#include <pthread.h>
#include <termios.h>
#include <unistd.h>

#include <CLI/CLI.hpp>

#include "clock.hpp"
#include "collector.hpp"
#include "sql.hpp"
#include "config_error.hpp"
#include "delivery.hpp"
#include "seal.hpp"
#include "export_cli.hpp"
#include "http.hpp"
#include "output.hpp"
#include "protocol.hpp"
#include "publish.hpp"
#include "toml_reader.hpp"
#include "web.hpp"

using namespace kohtaamo;
using namespace kohtaamo::sync;

namespace {

int serve(const std::string& config_file) {
    CollectorConfig config = load_collector_config(config_file);
    if (config.devices.empty())
        std::cerr << "kohtaamo-collector: warning: " << config_file
                  << " lists no [[device]]; every upload will get 401 (add one with `kohtaamo-collector token NAME`)\n";
    const std::string lang = config.export_defaults.report_language.value_or(CollectorConfig::kReportLanguage);
    std::error_code ec;
    if (!std::filesystem::exists(config.texts_dir / ("report-" + lang + ".toml"), ec))
        std::cerr << "kohtaamo-collector: warning: no report-" << lang << ".toml in " << config.texts_dir.string()
                  << "; reports will be refused (set [export] texts to the folder of the report catalogues)\n";
    // Signals are taken by one thread with sigwait(); every other thread blocks them.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    for (const auto& d : config.devices)
        if (d.enabled && hashes_equal(d.token_hash, hash_token(kDemoToken)))
            std::cerr << "kohtaamo-collector: WARNING: device \"" << d.name << "\": " << kDemoTokenWarning << "\n";
    Collector collector(config);
    int port = 0;
    try {
        port = collector.bind();
    } catch (const http::LimitError& e) {
        throw ConfigError(config_file, 0, 0, e.what());
    }
    std::cerr << "kohtaamo-collector: listening on http://" << config.listen << ":" << port << " (database "
              << config.database.describe() << ", " << config.devices.size() << " device token(s), "
              << config.export_tokens.size() << " export token(s))" << std::endl;
    std::thread waiter([&] {
        for (;;) {
            int sig = 0;
            sigwait(&signals, &sig);
            if (sig == SIGHUP) {
                try {
                    auto tokens = load_collector_tokens(config_file);
                    collector.set_tokens(tokens);
                    std::cerr << "kohtaamo-collector: reloaded " << tokens.devices.size() << " device token(s) and "
                              << tokens.export_tokens.size()
                              << " export token(s); every collector on this database serves them within a second"
                              << std::endl;
                } catch (const std::exception& e) {
                    std::cerr << "kohtaamo-collector: reload failed, keeping the old tokens: " << e.what() << std::endl;
                }
                continue;
            }
            std::cerr << "kohtaamo-collector: stopping" << std::endl;
            collector.stop();
            return;
        }
    });
    bool ok = collector.serve();
    if (!ok) {
        std::cerr << "kohtaamo-collector: the server stopped unexpectedly" << std::endl;
        std::exit(1);
    }
    waiter.join();
    return 0;
}

// The SQLite database of `config_file` into the PostgreSQL database `target`, checked.
int run_migrate(const std::string& config_file, const std::string& target) {
    const CollectorConfig config = load_collector_config(config_file);
    if (config.database.driver != DatabaseConfig::Driver::Sqlite) {
        std::cerr << "kohtaamo-collector: migrate: " << config_file << " names " << config.database.describe()
                  << ", not a SQLite file: migrate copies a SQLite collector database into PostgreSQL\n";
        return 2;
    }
    DatabaseConfig to;
    try {
        to = parse_database_url(target, ".");
    } catch (const std::invalid_argument& e) {
        std::cerr << "kohtaamo-collector: migrate: --to " << e.what() << "\n";
        return 2;
    }
    if (to.driver != DatabaseConfig::Driver::Postgresql) {
        std::cerr << "kohtaamo-collector: migrate: --to must be postgresql://…, not " << target << "\n";
        return 2;
    }
    std::error_code ec;
    if (!std::filesystem::is_regular_file(config.database.file, ec)) {
        std::cerr << "kohtaamo-collector: migrate: no database at " << config.database.file.string() << "\n";
        return 1;
    }
    std::cerr << "kohtaamo-collector: migrate: from " << config.database.describe() << " to " << to.describe()
              << " (stop the SQLite collector first: answers it takes meanwhile are not copied)\n";
    auto from = Storage::open(config.database);
    auto into = Storage::open(to);
    CopyCounts counts;
    const std::string differs =
        copy_database(*from, *into, [](const std::string& line) { std::cerr << "  " << line << "\n"; }, counts);
    if (!differs.empty()) {
        std::cerr << "kohtaamo-collector: migrate: the copy is NOT the same: " << differs
                  << "keep serving from SQLite and look at the PostgreSQL database before trying again\n";
        return 1;
    }
    std::cout << "migrated " << counts.batches << " batches, " << counts.responses << " responses and "
              << counts.answers << " answers to " << to.describe()
              << "; every row checked. Now set [database] url to that URL in the config and start the "
                 "collectors.\n";
    return 0;
}

// A kiosk's delivery file (sync/delivery.hpp): each batch as POST /v1/batches takes it,
// sealed answers opened with [privacy] keys, stored with the same idempotency.
int run_import(const std::string& config_file, const std::string& file, const std::string& device) {
    const CollectorConfig config = load_collector_config(config_file);
    std::vector<Batch> batches;
    try {
        batches = read_delivery_file(file, config.limits);
    } catch (const std::runtime_error& e) {
        std::cerr << "kohtaamo-collector: import: " << e.what() << "\n";
        return 2;
    }
    auto storage = Storage::open(config.database);
    std::size_t stored = 0, duplicate = 0, conflicts = 0, refused = 0;
    for (std::size_t i = 0; i < batches.size(); ++i) {
        Batch& b = batches[i];
        try {
            open_sealed(b, config.seal_keys, config.limits);
        } catch (const ProtocolError& e) {
            std::cerr << "kohtaamo-collector: import: " << file << ":" << i + 1 << ": " << e.code() << ": " << e.what()
                      << "\n";
            if (e.code() == "unknown_seal_key") return 3;  // (the whole file is sealed to it, as a rule)
            ++refused;  // a box that does not open: this line only
            continue;
        }
        const StoreOutcome o = storage->store(b, device, batch_identity(b));
        if (o.status == 409) {
            std::cerr << "kohtaamo-collector: import: " << file << ":" << i + 1 << ": batch " << b.batch_id
                      << " was received before with another body; not stored\n";
            ++conflicts;
            continue;
        }
        stored += o.reply.stored.size();
        duplicate += o.reply.duplicate.size();
    }
    std::cout << file << ": " << batches.size() << " batch(es): " << stored << " response(s) stored, " << duplicate
              << " already held";
    if (refused + conflicts > 0) std::cout << ", " << refused + conflicts << " batch(es) refused (above)";
    std::cout << "\n";
    return refused + conflicts > 0 ? 1 : 0;
}

int run_wrap_key(const std::string& secret_file, const std::string& out_file) {
    const std::filesystem::path out(out_file);
    std::error_code ec;
    if (std::filesystem::exists(out, ec)) {
        std::cerr << "kohtaamo-collector: wrap-key: " << out_file << " exists; choose another file\n";
        return 2;
    }
    std::string pass, again;
    std::getline(std::cin, pass);
    if (!std::getline(std::cin, again)) again = pass;  // one line: no confirmation given
    if (pass != again) {
        std::cerr << "kohtaamo-collector: wrap-key: the two passphrases differ\n";
        return 2;
    }
    try {
        const SealSecretKey key = load_seal_key_file(secret_file);
        AtomicFile f(out.has_parent_path() ? out.parent_path() : std::filesystem::path("."), out.filename().string(),
                     0600);
        f.write(wrap_seal_secret(key, pass) + "\n");
        f.finish();
        f.commit();
        std::cout << "# " << out_file << ": key \"" << key.id
                  << "\" locked with the passphrase (Argon2id + XSalsa20-Poly1305). Keep the passphrase apart from "
                     "the stick.\n";
    } catch (const SealError& e) {
        std::cerr << "kohtaamo-collector: wrap-key: " << e.what() << "\n";
        return 2;
    }
    return 0;
}

// A password: one line on stdin (asked for, without echo, on a terminal).
std::string read_password() {
    const bool tty = ::isatty(STDIN_FILENO);
    termios old{};
    if (tty) {
        std::cerr << "Password (at least 10 characters): " << std::flush;
        ::tcgetattr(STDIN_FILENO, &old);
        termios quiet = old;
        quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
        ::tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
    }
    std::string p;
    std::getline(std::cin, p);
    if (tty) {
        ::tcsetattr(STDIN_FILENO, TCSANOW, &old);
        std::cerr << "\n";
    }
    while (!p.empty() && (p.back() == '\r' || p.back() == '\n')) p.pop_back();
    return p;
}

// `account add|remove|unlock|list`: the web page's coordinators (sync/collector/web.hpp).
int run_account(const std::string& config_file, const std::string& action, const std::string& name,
                const std::string& sites_text) {
    const CollectorConfig config = load_collector_config(config_file);
    auto storage = Storage::open(config.database);
    if (action == "list") {
        const std::int64_t now = Clock().wall_ms();
        for (const WebAccount& a : storage->web_accounts()) {
            std::string sites;
            for (const auto& s : a.sites) sites += (sites.empty() ? "" : ",") + s;
            std::cout << a.name << "\tsites=" << (sites.empty() ? "all" : sites)
                      << (a.locked_until_ms > now ? "\tlocked until " + iso8601_utc(a.locked_until_ms) : "") << "\n";
        }
        return 0;
    }
    if (!valid_id(name)) {
        std::cerr << "kohtaamo-collector: account: the name \"" << name << "\" must be 1-64 of a-z, 0-9, _ and -\n";
        return 2;
    }
    if (action == "remove") {
        if (!storage->remove_web_account(name)) {
            std::cerr << "kohtaamo-collector: account remove: there is no account " << name << "\n";
            return 1;
        }
        std::cout << "removed " << name << " and its sessions\n";
        return 0;
    }
    auto existing = storage->web_account(name);
    if (action == "unlock") {
        if (!existing) {
            std::cerr << "kohtaamo-collector: account unlock: there is no account " << name << "\n";
            return 1;
        }
        storage->web_login_succeeded(name);
        std::cout << "unlocked " << name << "\n";
        return 0;
    }
    WebAccount a;
    a.name = name;
    std::string_view rest = sites_text;
    while (!rest.empty()) {
        const auto comma = rest.find(',');
        const std::string site(rest.substr(0, comma));
        if (!valid_id(site)) {
            std::cerr << "kohtaamo-collector: account add: --sites: \"" << site
                      << "\" is not a site id (1-64 of a-z, 0-9, _ and -)\n";
            return 2;
        }
        if (!config.site(site))
            std::cerr << "kohtaamo-collector: warning: site " << site << " has no [sites." << site << "] in "
                      << config_file << " (it is shown by its id)\n";
        a.sites.push_back(site);
        if (comma == std::string_view::npos) break;
        rest.remove_prefix(comma + 1);
    }
    const std::string password = read_password();
    if (password.size() < 10 || password.size() > 1024) {
        std::cerr << "kohtaamo-collector: account add: the password must be 10 to 1024 characters (give it on stdin)\n";
        return 2;
    }
    a.password_hash = hash_password(password);
    storage->put_web_account(a);
    std::cout << (existing ? "changed " : "added ") << name << " (sites: " << (sites_text.empty() ? "all" : sites_text)
              << "); log in at the collector's web page, " << config.web.prefix << "\n";
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"Kohtaamo collector: receives survey answers from kiosks (see sync/README.md)"};
    std::string config_file;
    app.add_option("--config,-c", config_file, "collector config (TOML), e.g. config/collector.toml");

    auto* exp = app.add_subcommand(
        "export", "export every meeting point's answers (or some): the same files and options as kohtaamo-export");
    std::string out;
    bool quiet = false;
    ExportRequest request;
    exp->add_option("-o,--out", out, "Folder to write into (must exist)")->required();
    add_export_options(*exp, request);
    exp->add_flag("-q,--quiet", quiet, "No progress bar, no summary");

    auto* token = app.add_subcommand("token", "make a new token and print its [[device]] (or [[export_token]]) entry");
    std::string name;
    bool export_token = false;
    token->add_option("name", name, "the kiosk's name, e.g. kirjasto-1 (or the coordinator's, with --export)")
        ->required();
    token->add_flag("--export", export_token,
                    "a token for GET /v1/export (reads every site's answers) instead of a kiosk's");

    app.add_subcommand("hash-token", "read a token on stdin, print the hash to put in the config");

    auto* keys = app.add_subcommand(
        "keys", "make a key pair for sealed answers: the secret half into --secret (mode 0600), the public half printed");
    std::string key_id = "k1", secret_file;
    keys->add_option("--id", key_id, "the key's id, e.g. k1, k2 when rotating")->capture_default_str();
    keys->add_option("--secret", secret_file, "where to write the secret half (must not exist)")->required();

    auto* wrap = app.add_subcommand(
        "wrap-key", "lock a secret key with a passphrase (read from stdin) for a coordinator's USB stick");
    std::string wrap_secret, wrap_out;
    wrap->add_option("--secret", wrap_secret, "the secret key file (kohtaamo-collector keys --secret)")->required();
    wrap->add_option("--out", wrap_out, "the locked key file to write (must not exist)")->required();

    auto* import = app.add_subcommand(
        "import", "store a kiosk's sealed delivery file (its USB export) as if it had synced; twice adds nothing");
    std::string import_file, import_device = "delivery-file";
    import->add_option("file", import_file, "the .delivery.jsonl file")->required();
    import->add_option("--device", import_device, "the device name stored with its responses")->capture_default_str();

    auto* migrate = app.add_subcommand(
        "migrate", "copy this collector's SQLite database into PostgreSQL, then check that every row arrived");
    std::string target;
    migrate->add_option("--to", target, "the PostgreSQL database, postgresql://user@host:port/db")->required();
    auto* bundle_keys = app.add_subcommand("bundle-keys", "make the survey bundles' signing keypair (bundle.key, bundle.pub)");
    std::string keys_dir;
    bundle_keys->add_option("dir", keys_dir, "the folder to write them into")->required();
    auto* publish = app.add_subcommand(
        "publish", "check a folder of surveys, texts, news, media and kiosk.toml as kohtaamo --check-config does, "
                   "then store it as a new signed bundle version for the kiosks");
    std::string publish_dir, publish_site, key_file;
    bool publish_all = false;
    publish->add_option("dir", publish_dir, "the folder (kiosk.toml at its top)")->required();
    auto* all_opt = publish->add_flag("--all", publish_all, "for every site");
    auto* site_opt = publish->add_option("--site", publish_site, "for one site only");
    all_opt->excludes(site_opt);
    publish->add_option("--key", key_file, "the signing key (default: bundle.key beside the config)");
    auto* status = app.add_subcommand("status", "every kiosk with the bundle version it runs, and any refusal and why");
    auto* account = app.add_subcommand("account", "the web page's coordinator accounts (Argon2id password hashes)");
    std::string account_name, account_sites;
    auto* account_add = account->add_subcommand("add", "add an account, or change its password and sites (password on stdin)");
    account_add->add_option("name", account_name, "the coordinator's user name")->required();
    account_add->add_option("--sites", account_sites, "the sites it may see, comma-separated (default: every site)");
    auto* account_remove = account->add_subcommand("remove", "remove an account and end its sessions");
    account_remove->add_option("name", account_name)->required();
    auto* account_unlock = account->add_subcommand("unlock", "lift the lock after wrong passwords");
    account_unlock->add_option("name", account_name)->required();
    account->add_subcommand("list", "every account, its sites and any lock");
    account->require_subcommand(1);
    app.require_subcommand(0, 1);
    CLI11_PARSE(app, argc, argv);

    try {
        if (token->parsed()) {
            std::string t = new_token();
            if (export_token)
                std::cout << "# Give this token to the coordinator (or their script) who exports from the collector:\n"
                          << "#   curl -H 'Authorization: Bearer " << t << "' '<collector>/v1/export?format=report'\n"
                          << "# and add this to the collector's config, then restart it or send it SIGHUP:\n"
                          << "[[export_token]]\nname = \"" << name << "\"\ntoken_hash = \"" << hash_token(t) << "\"\n";
            else
                std::cout << "# Give this token to the kiosk (its config/kiosk.toml [sync] token):\n"
                          << "#   " << t << "\n"
                          << "# and add this to the collector's config, then restart it or send it SIGHUP:\n"
                          << "[[device]]\nname = \"" << name << "\"\ntoken_hash = \"" << hash_token(t) << "\"\n";
            return 0;
        }
        if (keys->parsed()) {
            const std::filesystem::path file(secret_file);
            std::error_code ec;
            if (std::filesystem::exists(file, ec)) {
                std::cerr << "kohtaamo-collector: keys: " << file.string()
                          << " exists; a secret key is never overwritten (choose another file or --id)\n";
                return 2;
            }
            SealKeyPair k;
            try {
                k = new_seal_keypair(key_id);
            } catch (const std::invalid_argument& e) {
                std::cerr << "kohtaamo-collector: keys: --id: " << e.what() << "\n";
                return 2;
            }
            AtomicFile out(file.has_parent_path() ? file.parent_path() : std::filesystem::path("."),
                           file.filename().string(), 0600);
            out.write(k.secret_key + "\n");
            out.finish();
            out.commit();
            std::cout << "# The secret half is in " << file.string()
                      << " (mode 0600): keep it on the collector, and a copy offline (docs/security.md).\n"
                      << "# The public half, for every kiosk's config:\n[privacy]\nseal_to = \"" << k.public_key << "\"\n";
            return 0;
        }
        if (bundle_keys->parsed()) return run_bundle_keys(keys_dir);
        if (wrap->parsed()) return run_wrap_key(wrap_secret, wrap_out);
        if (app.got_subcommand("hash-token")) {
            std::string t;
            std::getline(std::cin, t);
            while (!t.empty() && (t.back() == '\r' || t.back() == ' ')) t.pop_back();
            if (t.empty()) {
                std::cerr << "kohtaamo-collector: no token on stdin\n";
                return 2;
            }
            std::cout << hash_token(t) << "\n";
            return 0;
        }
        if (config_file.empty()) {
            std::cerr << "kohtaamo-collector: --config FILE is required (see config/collector.toml)\n";
            return 2;
        }
        if (exp->parsed()) {
            const CollectorConfig config = load_collector_config(config_file);
            ExportOptions o;
            try {
                o = config.export_options(request, Clock().wall_ms());
            } catch (const ExportRequestError& e) {
                std::cerr << "kohtaamo-collector: export: --" << e.what() << "\n";
                return 2;
            }
            std::error_code ec;
            if (config.database.driver == DatabaseConfig::Driver::Sqlite &&
                !std::filesystem::is_regular_file(config.database.file, ec)) {
                std::cerr << "kohtaamo-collector: database error: no database at " << config.database.file.string()
                          << "\n";
                return 1;
            }
            auto storage = Storage::open(config.database);
            auto snapshot = storage->export_snapshot();
            return run_export_command("kohtaamo-collector", *snapshot, config.surveys, out, o, quiet);
        }
        if (migrate->parsed()) return run_migrate(config_file, target);
        if (import->parsed()) return run_import(config_file, import_file, import_device);
        if (account->parsed()) {
            const std::string action = account_add->parsed()      ? "add"
                                       : account_remove->parsed() ? "remove"
                                       : account_unlock->parsed() ? "unlock"
                                                                  : "list";
            return run_account(config_file, action, account_name, account_sites);
        }
        if (publish->parsed()) {
            if (!publish_all && publish_site.empty()) {
                std::cerr << "kohtaamo-collector: publish: say --all (every site) or --site S\n";
                return 2;
            }
            if (!publish_site.empty() && !valid_id(publish_site)) {
                std::cerr << "kohtaamo-collector: publish: --site \"" << publish_site
                          << "\" is not a site id (1-64 of a-z, 0-9, _ and -)\n";
                return 2;
            }
            const CollectorConfig config = load_collector_config(config_file);
            if (key_file.empty()) key_file = (std::filesystem::path(config_file).parent_path() / "bundle.key").string();
            auto storage = Storage::open(config.database);
            return run_publish(*storage, publish_dir, publish_site, key_file);
        }
        if (status->parsed()) {
            const CollectorConfig config = load_collector_config(config_file);
            auto storage = Storage::open(config.database);
            storage->publish_tokens(load_collector_tokens(config_file));
            return run_status(*storage, std::cout);
        }
        return serve(config_file);
    } catch (const ConfigError& e) {
        std::cerr << "kohtaamo-collector: " << e.what() << "\n";
        return 2;
    } catch (const std::exception& e) {
        std::cerr << "kohtaamo-collector: " << e.what() << "\n";
        return 1;
    }
}
