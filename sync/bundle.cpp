#include "bundle.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "clock.hpp"
#include "protocol.hpp"
#include "survey.hpp"

namespace kohtaamo::sync {

namespace {

constexpr std::string_view kMagic = "KOHTAAMO-BUNDLE1";
constexpr std::string_view kSignedPrefix = "kohtaamo bundle 1\n";

std::string to_hex(const unsigned char* p, std::size_t n) {
    std::string out(n * 2 + 1, '\0');
    sodium_bin2hex(out.data(), out.size(), p, n);
    out.pop_back();
    return out;
}

bool from_hex(std::string_view hex, unsigned char* out, std::size_t n) {
    if (hex.size() != n * 2) return false;
    for (char c : hex)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    std::size_t len = 0;
    return sodium_hex2bin(out, n, hex.data(), hex.size(), nullptr, &len, nullptr) == 0 && len == n;
}

void init_sodium() {
    if (sodium_init() < 0) throw std::runtime_error("libsodium cannot start");
}

[[noreturn]] void malformed(const std::string& why) { throw BundleError("malformed", "not a valid bundle: " + why); }

std::string signed_message(std::string_view manifest) {
    std::string m(kSignedPrefix);
    m.append(manifest);
    return m;
}

}  // namespace


BundleKeys make_bundle_keys() {
    init_sodium();
    unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
    crypto_sign_keypair(pk, sk);
    BundleKeys k{to_hex(pk, sizeof pk), to_hex(sk, sizeof sk)};
    sodium_memzero(sk, sizeof sk);
    return k;
}

void write_bundle_keys(const std::filesystem::path& dir, const BundleKeys& keys) {
    auto write = [&](const std::filesystem::path& file, const std::string& text, mode_t mode) {
        const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
        if (fd < 0)
            throw std::runtime_error(file.string() + ": " + std::strerror(errno) +
                                     (errno == EEXIST ? " (a key is never overwritten: move it away first)" : ""));
        const std::string line = text + "\n";
        const bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) && ::fsync(fd) == 0;
        ::close(fd);
        if (!ok) throw std::runtime_error(file.string() + ": cannot write: " + std::strerror(errno));
    };
    write(dir / "bundle.key", keys.secret_hex, 0600);
    write(dir / "bundle.pub", keys.public_hex, 0644);
}

BundleKeys read_bundle_secret(const std::filesystem::path& file) {
    init_sodium();
    struct stat st {};
    if (::stat(file.c_str(), &st) != 0)
        throw std::runtime_error(file.string() + ": " + std::strerror(errno) +
                                 " (make the keys with `kohtaamo-collector bundle-keys DIR`)");
    if ((st.st_mode & 077) != 0)
        throw std::runtime_error(file.string() + ": other users may read the bundle signing key: chmod 600 " +
                                 file.string());
    std::ifstream in(file);
    std::string hex;
    std::getline(in, hex);
    unsigned char sk[crypto_sign_SECRETKEYBYTES], pk[crypto_sign_PUBLICKEYBYTES];
    if (!from_hex(hex, sk, sizeof sk))
        throw std::runtime_error(file.string() + ": not a bundle signing key (128 hex digits)");
    crypto_sign_ed25519_sk_to_pk(pk, sk);
    BundleKeys k{to_hex(pk, sizeof pk), hex};
    sodium_memzero(sk, sizeof sk);
    return k;
}

std::string public_key_problem(std::string_view hex) {
    unsigned char pk[crypto_sign_PUBLICKEYBYTES];
    if (!from_hex(hex, pk, sizeof pk)) return "a bundle key is 64 lowercase hex digits (the collector's bundle.pub)";
    return "";
}

std::string bundle_path_problem(std::string_view path) {
    if (path.empty() || path.size() > 200) return "a path of 1 to 200 bytes";
    std::size_t depth = 0, start = 0;
    for (;;) {
        const std::size_t end = path.find('/', start);
        const std::string_view part = path.substr(start, end == std::string_view::npos ? path.npos : end - start);
        if (part.empty()) return "an empty path component";
        if (part.front() == '.') return "a component starting with '.' (hidden, or ..)";
        for (char c : part)
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
                  c == '-'))
                return "a character other than A-Z a-z 0-9 . _ -";
        if (part == "device.toml") return "a device settings file (device.toml never leaves its device)";
        for (std::string_view secret : {".key", ".pem", ".crt", ".p12"})
            if (part.size() >= secret.size() && part.substr(part.size() - secret.size()) == secret)
                return "a key or certificate file";
        if (++depth > 8) return "more than 8 folders deep";
        if (end == std::string_view::npos) break;
        start = end + 1;
    }
    return "";
}

std::vector<std::pair<std::string, std::string>> read_bundle_folder(const std::filesystem::path& dir) {
    namespace fs = std::filesystem;
    std::vector<std::pair<std::string, std::string>> out;
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) throw BundleError("files", dir.string() + ": not a folder");
    for (auto it = fs::recursive_directory_iterator(dir); it != fs::recursive_directory_iterator(); ++it) {
        const std::string rel = fs::relative(it->path(), dir).generic_string();
        if (it->is_symlink()) throw BundleError("files", it->path().string() + ": a symbolic link (a bundle holds files only)");
        if (it->is_directory()) {
            if (rel.front() == '.') throw BundleError("files", it->path().string() + ": a hidden folder");
            continue;
        }
        if (!it->is_regular_file()) throw BundleError("files", it->path().string() + ": not a regular file");
        if (std::string why = bundle_path_problem(rel); !why.empty())
            throw BundleError("files", it->path().string() + ": cannot go in a bundle: " + why);
        std::ifstream in(it->path(), std::ios::binary);
        std::ostringstream s;
        s << in.rdbuf();
        if (!in && !in.eof()) throw BundleError("files", it->path().string() + ": cannot read");
        out.emplace_back(rel, s.str());
    }
    std::sort(out.begin(), out.end());
    if (out.empty() || std::none_of(out.begin(), out.end(), [](const auto& f) { return f.first == "kiosk.toml"; }))
        throw BundleError("files", dir.string() + ": no kiosk.toml (the county's shared settings) at the top of the folder");
    if (out.size() > kMaxBundleFiles) throw BundleError("files", dir.string() + ": more than 10,000 files");
    return out;
}

std::string pack_bundle(std::int64_t version, const std::string& created_at, const std::string& site,
                        const std::vector<std::pair<std::string, std::string>>& files, const BundleKeys& keys) {
    init_sodium();
    nlohmann::json list = nlohmann::json::array();
    for (const auto& [path, bytes] : files)
        if (std::string why = bundle_path_problem(path); !why.empty())
            throw BundleError("files", "\"" + path + "\" cannot go in a bundle: " + why);
    for (const auto& [path, bytes] : files)
        list.push_back({{"path", path}, {"size", bytes.size()}, {"sha256", sha256_hex(bytes)}});
    const nlohmann::json m = {{"format", 1},     {"version", version}, {"created_at", created_at},
                              {"site", site},    {"key", keys.public_hex}, {"files", list}};
    const std::string manifest = m.dump();
    if (manifest.size() > kMaxManifestBytes) throw BundleError("files", "the manifest is over 1 MiB: too many files");
    unsigned char sk[crypto_sign_SECRETKEYBYTES];
    if (!from_hex(keys.secret_hex, sk, sizeof sk)) throw std::runtime_error("not a bundle signing key");
    unsigned char sig[crypto_sign_BYTES];
    const std::string msg = signed_message(manifest);
    crypto_sign_detached(sig, nullptr, reinterpret_cast<const unsigned char*>(msg.data()), msg.size(), sk);
    sodium_memzero(sk, sizeof sk);
    std::string out(kMagic);
    const auto n = static_cast<std::uint32_t>(manifest.size());
    for (int shift : {24, 16, 8, 0}) out.push_back(static_cast<char>((n >> shift) & 0xff));
    out += manifest;
    out.append(reinterpret_cast<const char*>(sig), sizeof sig);
    for (const auto& f : files) out += f.second;
    return out;
}

namespace {

struct Split {
    std::string_view manifest, signature, payload;
};

Split split(std::string_view bytes) {
    if (bytes.size() > kMaxBundleBytes) malformed("larger than 256 MiB");
    if (bytes.size() < kMagic.size() + 4 || bytes.substr(0, kMagic.size()) != kMagic)
        malformed("it does not start with " + std::string(kMagic));
    std::uint32_t n = 0;
    for (int i = 0; i < 4; ++i) n = (n << 8) | static_cast<unsigned char>(bytes[kMagic.size() + i]);
    if (n == 0 || n > kMaxManifestBytes) malformed("a manifest length of " + std::to_string(n) + " bytes");
    const std::size_t at = kMagic.size() + 4;
    if (bytes.size() < at + n + crypto_sign_BYTES) malformed("cut short before the end of its signature");
    return {bytes.substr(at, n), bytes.substr(at + n, crypto_sign_BYTES), bytes.substr(at + n + crypto_sign_BYTES)};
}

BundleManifest decode_manifest(std::string_view text) {
    nlohmann::json j;
    try {
        j = parse_json(text);
    } catch (const std::exception& e) {
        malformed(std::string("its manifest: ") + e.what());
    }
    if (!j.is_object()) malformed("its manifest is not a JSON object");
    static const std::vector<std::string> keys = {"created_at", "files", "format", "key", "site", "version"};
    for (const auto& [k, v] : j.items())
        if (std::find(keys.begin(), keys.end(), k) == keys.end()) malformed("its manifest has an unknown field \"" + k + "\"");
    for (const auto& k : keys)
        if (!j.contains(k)) malformed("its manifest lacks \"" + k + "\"");
    if (!j["format"].is_number_unsigned() || j["format"].get<std::uint64_t>() != 1) malformed("format is not 1");
    BundleManifest m;
    if (!j["version"].is_number_unsigned() || j["version"].get<std::uint64_t>() < 1 ||
        j["version"].get<std::uint64_t>() > 1'000'000'000)
        malformed("version is not an integer 1 … 1000000000");
    m.version = j["version"].get<std::int64_t>();
    if (!j["created_at"].is_string() || !is_timestamp(j["created_at"].get<std::string>())) malformed("created_at is not a time");
    m.created_at = j["created_at"].get<std::string>();
    if (!j["site"].is_string() || j["site"].get<std::string>().size() > 200) malformed("site is not a string of 0-200 bytes");
    m.site = j["site"].get<std::string>();
    if (!j["key"].is_string() || !public_key_problem(j["key"].get<std::string>()).empty()) malformed("key is not 64 hex digits");
    m.key = j["key"].get<std::string>();
    if (!j["files"].is_array() || j["files"].empty() || j["files"].size() > kMaxBundleFiles)
        malformed("files is not a list of 1 to 10,000 files");
    for (const auto& f : j["files"]) {
        if (!f.is_object() || f.size() != 3 || !f.contains("path") || !f.contains("size") || !f.contains("sha256"))
            malformed("a file entry is not {path, size, sha256}");
        if (!f["path"].is_string() || !f["size"].is_number_unsigned() || !f["sha256"].is_string())
            malformed("a file entry's path, size or sha256 has the wrong type");
        BundleFile b{f["path"].get<std::string>(), f["size"].get<std::uint64_t>(), f["sha256"].get<std::string>()};
        if (std::string why = bundle_path_problem(b.path); !why.empty()) malformed("the file \"" + b.path + "\": " + why);
        unsigned char h[32];
        if (!from_hex(b.sha256, h, sizeof h)) malformed("the file " + b.path + ": sha256 is not 64 hex digits");
        if (!m.files.empty() && !(m.files.back().path < b.path))
            malformed("the files are not in order of path, or one is there twice (" + b.path + ")");
        m.files.push_back(std::move(b));
    }
    if (std::none_of(m.files.begin(), m.files.end(), [](const BundleFile& f) { return f.path == "kiosk.toml"; }))
        malformed("no kiosk.toml in it");
    return m;
}

}  // namespace

BundleManifest peek_bundle(std::string_view bytes) { return decode_manifest(split(bytes).manifest); }

OpenedBundle open_bundle(std::string_view bytes, const std::string& public_hex) {
    init_sodium();
    const Split s = split(bytes);
    OpenedBundle out;
    out.manifest = decode_manifest(s.manifest);
    unsigned char pk[crypto_sign_PUBLICKEYBYTES];
    if (!from_hex(public_hex, pk, sizeof pk)) throw BundleError("other_key", "this kiosk has no valid bundle key");
    if (out.manifest.key != public_hex)
        throw BundleError("other_key", "version " + std::to_string(out.manifest.version) + " is signed by another key (" +
                                           out.manifest.key.substr(0, 16) + "…, this kiosk trusts " +
                                           public_hex.substr(0, 16) + "…)");
    const std::string msg = signed_message(s.manifest);
    if (crypto_sign_verify_detached(reinterpret_cast<const unsigned char*>(s.signature.data()),
                                    reinterpret_cast<const unsigned char*>(msg.data()), msg.size(), pk) != 0)
        throw BundleError("bad_signature", "version " + std::to_string(out.manifest.version) +
                                               ": the signature does not verify (the manifest was altered)");
    std::uint64_t total = 0;
    for (const auto& f : out.manifest.files) total += f.size;
    if (total != s.payload.size())
        throw BundleError("altered", "the files are " + std::to_string(s.payload.size()) + " bytes, the manifest says " +
                                         std::to_string(total));
    std::size_t at = 0;
    for (const auto& f : out.manifest.files) {
        const std::string_view data = s.payload.substr(at, f.size);
        at += f.size;
        if (sha256_hex(data) != f.sha256)
            throw BundleError("altered", "version " + std::to_string(out.manifest.version) + ": the file " + f.path +
                                             " does not match its hash (altered on the way)");
        out.contents.push_back(data);
    }
    return out;
}

}  // namespace kohtaamo::sync
