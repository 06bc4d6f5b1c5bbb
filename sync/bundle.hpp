// bundle.hpp — a signed survey bundle: one file holding a signed manifest and the files it
// lists (surveys, UI texts, news, pictures, sounds, the shared kiosk.toml). Written by
// `kohtaamo-collector publish`, read by the kiosk (bundle_store.hpp). The format, exactly,
// is in sync/PROTOCOL.md ("Survey bundles"):
//
//   "KOHTAAMO-BUNDLE1"          16 bytes, the magic
//   M                           4 bytes, big-endian: the manifest's length (1 … 1 MiB)
//   manifest                    M bytes of JSON (parse_json's strict rules)
//   signature                   64 bytes: Ed25519 (crypto_sign_detached) over
//                               "kohtaamo bundle 1\n" followed by the manifest
//   the files                   their bytes, one after another in the manifest's order;
//                               nothing after the last one
//
// The manifest names every file with its size and SHA-256, so the signature covers every
// byte. Both ends parse with the same strict code (open_bundle): a length that does not
// add up, a path that is not plain, a key the manifest does not know, is refused.
#pragma once
#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "survey.hpp"

namespace kohtaamo::sync {

// Why a bundle is refused. `code` is one of: malformed, other_key, bad_signature, altered,
// not_newer, config, no_space, files (what publish refuses in a folder).
class BundleError : public std::runtime_error {
public:
    BundleError(std::string code, const std::string& message) : std::runtime_error(message), code_(std::move(code)) {}
    const std::string& code() const { return code_; }

private:
    std::string code_;
};

struct BundleFile {
    std::string path;  // relative, '/'-separated: "surveys/child.toml"
    std::uint64_t size = 0;
    std::string sha256;  // 64 lowercase hex digits
};

struct BundleManifest {
    std::int64_t version = 0;  // 1 …; only goes up
    std::string created_at;    // ISO 8601 UTC
    std::string site;          // "" for every site, else the one site it is for
    std::string key;           // the signing key's public half, 64 hex digits
    std::vector<BundleFile> files;
};

// A parsed and verified bundle: the manifest and each file's bytes (views into the
// bundle's bytes, which must outlive it).
struct OpenedBundle {
    BundleManifest manifest;
    std::vector<std::string_view> contents;  // in manifest order
};

inline constexpr std::uint64_t kMaxBundleBytes = 256ull << 20;  // a whole bundle
inline constexpr std::size_t kMaxManifestBytes = 1 << 20;
inline constexpr std::size_t kMaxBundleFiles = 10'000;

// Ed25519 keys as hex: public 32 bytes (64 digits), secret 64 bytes (128 digits).
struct BundleKeys {
    std::string public_hex, secret_hex;
};
BundleKeys make_bundle_keys();
// Writes DIR/bundle.key (the secret, mode 0600, created new: an existing one is never
// overwritten) and DIR/bundle.pub; throws std::runtime_error.
void write_bundle_keys(const std::filesystem::path& dir, const BundleKeys& keys);
// Reads a secret key file (refused when other users may read it); the public half too.
BundleKeys read_bundle_secret(const std::filesystem::path& file);
// Why `hex` is not a public key (64 hex digits), or "" when it is one.
std::string public_key_problem(std::string_view hex);

// The files of a folder to publish, sorted by path: every regular file under it. Refuses
// (BundleError "files") a symbolic link, a device settings file (device.toml), a key or
// certificate file, a hidden file, a path that is not plain.
std::vector<std::pair<std::string, std::string>> read_bundle_folder(const std::filesystem::path& dir);
// Whether a relative path is one a bundle may hold (plain components, no "..", no device.toml).
std::string bundle_path_problem(std::string_view path);

// Makes a bundle of `files` (path, bytes), signed with `keys`.
std::string pack_bundle(std::int64_t version, const std::string& created_at, const std::string& site,
                        const std::vector<std::pair<std::string, std::string>>& files, const BundleKeys& keys);

// Reads the manifest without checking the signature (the collector's status, tests).
BundleManifest peek_bundle(std::string_view bytes);
// Parses strictly and verifies against `public_hex`: the signature (other_key when the
// manifest names another key, bad_signature when it does not verify), then every file's
// size and hash (altered). Throws BundleError.
OpenedBundle open_bundle(std::string_view bytes, const std::string& public_hex);

// SHA-256 as 64 lowercase hex digits: the one in kiosk/core/survey.hpp (a survey definition's hash).
using kohtaamo::sha256_hex;

}  // namespace kohtaamo::sync
