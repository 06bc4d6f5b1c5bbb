// kohtaamo-collector — the central endpoint kiosks send their answers to.
//
//   kohtaamo-collector --config config/collector.toml              serve (until SIGTERM/SIGINT)
//   kohtaamo-collector --config config/collector.toml export --format csv [--output FILE]
//   kohtaamo-collector token NAME                                    a new device token
//   kohtaamo-collector hash-token < token.txt                        the hash of a token
//
// SIGHUP re-reads the [[device]] list (add or disable a kiosk without a restart).
#include <csignal>
#include <fstream>
#include <iostream>
#include <thread>

#include <pthread.h>

#include <CLI/CLI.hpp>

#include "collector.hpp"
#include "config_error.hpp"

using namespace kohtaamo;
using namespace kohtaamo::sync;

namespace {

int serve(const std::string& config_file) {
    CollectorConfig config = load_collector_config(config_file);
    if (config.devices.empty())
        std::cerr << "kohtaamo-collector: warning: " << config_file
                  << " lists no [[device]]; every upload will get 401 (add one with `kohtaamo-collector token NAME`)\n";
    // Signals are taken by one thread with sigwait(); every other thread blocks them.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    Collector collector(config);
    int port = collector.bind();
    std::cerr << "kohtaamo-collector: listening on http://" << config.listen << ":" << port << " (database "
              << config.database.string() << ", " << config.devices.size() << " device token(s))" << std::endl;
    std::thread waiter([&] {
        for (;;) {
            int sig = 0;
            sigwait(&signals, &sig);
            if (sig == SIGHUP) {
                try {
                    auto devices = load_collector_devices(config_file);
                    std::cerr << "kohtaamo-collector: reloaded " << devices.size() << " device token(s)" << std::endl;
                    collector.set_devices(std::move(devices));
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

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"Kohtaamo collector: receives survey answers from kiosks (see sync/README.md)"};
    std::string config_file;
    app.add_option("--config,-c", config_file, "collector config (TOML), e.g. config/collector.toml");

    auto* exp = app.add_subcommand("export", "write everything the collector holds to stdout or a file");
    std::string format = "csv";
    std::string output;
    exp->add_option("--format,-f", format, "csv or json")->check(CLI::IsMember({"csv", "json"}));
    exp->add_option("--output,-o", output, "file to write (default: stdout)");

    auto* token = app.add_subcommand("token", "make a new device token and print its [[device]] entry");
    std::string name;
    token->add_option("name", name, "the kiosk's name, e.g. kirjasto-1")->required();

    app.add_subcommand("hash-token", "read a token on stdin, print the hash to put in the config");
    app.require_subcommand(0, 1);
    CLI11_PARSE(app, argc, argv);

    try {
        if (token->parsed()) {
            std::string t = new_token();
            std::cout << "# Give this token to the kiosk (its config/kiosk.toml [sync] token):\n"
                      << "#   " << t << "\n"
                      << "# and add this to the collector's config, then restart it or send it SIGHUP:\n"
                      << "[[device]]\nname = \"" << name << "\"\ntoken_hash = \"" << hash_token(t) << "\"\n";
            return 0;
        }
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
            CollectorConfig config = load_collector_config(config_file);
            std::ofstream file;
            if (!output.empty()) {
                file.open(output, std::ios::binary);
                if (!file) throw std::runtime_error("cannot write " + output);
            }
            std::ostream& out = output.empty() ? std::cout : file;
            if (format == "csv")
                export_csv(config.database, out);
            else
                export_json(config.database, out);
            out.flush();
            if (!out) throw std::runtime_error("writing the export failed");
            return 0;
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
