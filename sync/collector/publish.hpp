// publish.hpp — the collector's bundle commands (issue #10, sync/PROTOCOL.md "Survey bundles"):
//   kohtaamo-collector bundle-keys DIR                       DIR/bundle.key (0600) and DIR/bundle.pub
//   kohtaamo-collector -c collector.toml publish DIR --all   check DIR as kohtaamo --check-config
//   kohtaamo-collector -c collector.toml publish DIR --site S     would, then store a new signed version
//   kohtaamo-collector -c collector.toml status              every kiosk, the bundle it runs, its refusal
#pragma once
#include <filesystem>
#include <ostream>
#include <string>

namespace kohtaamo::sync {

class Storage;

// Exit codes: 0 published, 2 refused (the reason with file:line on stderr), 1 other failure.
int run_publish(Storage& storage, const std::filesystem::path& dir, const std::string& site,
                const std::filesystem::path& key_file);
int run_bundle_keys(const std::filesystem::path& dir);
int run_status(Storage& storage, std::ostream& out);

}  // namespace kohtaamo::sync
