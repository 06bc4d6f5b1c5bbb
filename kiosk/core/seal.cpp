#include "seal.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>

#include <sodium.h>
#include <sys/stat.h>

namespace kohtaamo {

namespace {

void init() {
    static std::once_flag once;
    std::call_once(once, [] {
        if (sodium_init() < 0) throw SealError("libsodium cannot start");
    });
}

std::string b64(const unsigned char* p, std::size_t n) {
    std::string out(sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL), '\0');
    sodium_bin2base64(out.data(), out.size(), p, n, sodium_base64_VARIANT_ORIGINAL);
    out.resize(std::strlen(out.c_str()));
    return out;
}

std::optional<std::string> unb64(std::string_view text) {
    std::string out(text.size() / 4 * 3 + 3, '\0');
    std::size_t len = 0;
    const char* end = nullptr;
    if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(), text.size(), nullptr,
                          &len, &end, sodium_base64_VARIANT_ORIGINAL) != 0 ||
        end != text.data() + text.size())
        return std::nullopt;
    out.resize(len);
    return out;
}

// "ID:BASE64" of exactly 32 bytes.
std::pair<std::string, std::array<unsigned char, 32>> parse_key(std::string_view text, const char* what) {
    const auto colon = text.find(':');
    if (colon == std::string_view::npos)
        throw SealError(std::string(what) + " must be \"ID:BASE64\" as kohtaamo-collector keys prints it (e.g. k1:…)");
    std::string id(text.substr(0, colon));
    if (!valid_seal_key_id(id))
        throw SealError(std::string(what) + ": the key id \"" + id + "\" is not 1 to 16 letters, digits, '-' or '_'");
    auto raw = unb64(text.substr(colon + 1));
    if (!raw || raw->size() != 32)
        throw SealError(std::string(what) + " \"" + id + ":…\": the key is not 32 bytes of standard Base64");
    std::array<unsigned char, 32> k{};
    std::memcpy(k.data(), raw->data(), 32);
    sodium_memzero(raw->data(), raw->size());
    return {id, k};
}

std::string read_file(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) throw SealError(file.string() + ": cannot read the key file: " + std::strerror(errno));
    std::ostringstream s;
    s << in.rdbuf();
    std::string t = s.str();
    while (!t.empty() && (t.back() == '\n' || t.back() == '\r' || t.back() == ' ')) t.pop_back();
    return t;
}

constexpr std::string_view kWrapMagic = "kohtaamo-key-1";

}  // namespace

bool valid_seal_key_id(std::string_view id) {
    return !id.empty() && id.size() <= 16 &&
           id.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") ==
               std::string_view::npos;
}

std::pair<std::string, std::string> new_seal_key_texts(const std::string& id) {
    if (!valid_seal_key_id(id)) throw SealError("a key id is 1 to 16 letters, digits, '-' or '_' (e.g. k1)");
    init();
    unsigned char pk[crypto_box_PUBLICKEYBYTES], sk[crypto_box_SECRETKEYBYTES];
    crypto_box_keypair(pk, sk);
    std::pair<std::string, std::string> out{id + ":" + b64(pk, sizeof pk), id + ":" + b64(sk, sizeof sk)};
    sodium_memzero(sk, sizeof sk);
    return out;
}

SealSecretKey::~SealSecretKey() { sodium_memzero(secret_key.data(), secret_key.size()); }

SealPublicKey parse_seal_public_key(std::string_view text) {
    init();
    auto [id, k] = parse_key(text, "the public key");
    return SealPublicKey{id, k};
}

SealSecretKey parse_seal_secret_key(std::string_view text) {
    init();
    auto [id, k] = parse_key(text, "the secret key");
    SealSecretKey s;
    s.id = id;
    s.secret_key = k;
    sodium_memzero(k.data(), k.size());
    crypto_scalarmult_base(s.public_key.data(), s.secret_key.data());
    return s;
}

std::string seal_value(const SealPublicKey& key, std::string_view value) {
    init();
    std::vector<unsigned char> padded(value.size() + kSealBlock);
    std::memcpy(padded.data(), value.data(), value.size());
    std::size_t padded_len = 0;
    if (sodium_pad(&padded_len, padded.data(), value.size(), kSealBlock, padded.size()) != 0)
        throw SealError("seal: cannot pad the value");
    std::vector<unsigned char> box(padded_len + crypto_box_SEALBYTES);
    if (crypto_box_seal(box.data(), padded.data(), padded_len, key.key.data()) != 0)
        throw SealError("seal: crypto_box_seal failed");
    sodium_memzero(padded.data(), padded.size());
    return b64(box.data(), box.size());
}

std::optional<std::string> open_value(const SealSecretKey& key, std::string_view base64_box) {
    init();
    auto box = unb64(base64_box);
    if (!box || box->size() < crypto_box_SEALBYTES + kSealBlock) return std::nullopt;
    std::string padded(box->size() - crypto_box_SEALBYTES, '\0');
    if (crypto_box_seal_open(reinterpret_cast<unsigned char*>(padded.data()),
                             reinterpret_cast<const unsigned char*>(box->data()), box->size(), key.public_key.data(),
                             key.secret_key.data()) != 0)
        return std::nullopt;
    std::size_t len = 0;
    if (sodium_unpad(&len, reinterpret_cast<const unsigned char*>(padded.data()), padded.size(), kSealBlock) != 0)
        return std::nullopt;
    padded.resize(len);
    return padded;
}

void SealKeyring::add(SealSecretKey key) {
    for (auto& k : keys_)
        if (k.id == key.id) throw SealError("the key id \"" + key.id + "\" is given twice");
    keys_.push_back(std::move(key));
}

const SealSecretKey* SealKeyring::find(std::string_view id) const {
    for (const auto& k : keys_)
        if (k.id == id) return &k;
    return nullptr;
}

std::string SealKeyring::ids() const {
    std::string out;
    for (const auto& k : keys_) out += (out.empty() ? "" : ", ") + k.id;
    return out.empty() ? "none" : out;
}

bool is_wrapped_key_file(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    std::string head(kWrapMagic.size(), '\0');
    in.read(head.data(), static_cast<std::streamsize>(head.size()));
    return in && head == kWrapMagic;
}

SealSecretKey load_seal_key_file(const std::filesystem::path& file, const std::string& passphrase) {
    const std::string text = read_file(file);
    try {
        if (text.rfind(kWrapMagic, 0) == 0) return unwrap_seal_secret(text, passphrase);
        // A plain secret key is the collector's: only its owner may read it.
        struct stat st {};
        if (::stat(file.c_str(), &st) == 0 && (st.st_mode & 077) != 0)
            throw SealError("other users may read it (mode " + std::to_string((st.st_mode >> 6) & 7) +
                            std::to_string((st.st_mode >> 3) & 7) + std::to_string(st.st_mode & 7) + "): chmod 600 " +
                            file.string());
        return parse_seal_secret_key(text);
    } catch (const SealError& e) {
        throw SealError(file.string() + ": " + e.what());
    }
}

std::string wrap_seal_secret(const SealSecretKey& key, const std::string& passphrase) {
    init();
    if (passphrase.size() < 8) throw SealError("the passphrase must be 8 characters or more");
    unsigned char salt[crypto_pwhash_SALTBYTES], nonce[crypto_secretbox_NONCEBYTES], k[crypto_secretbox_KEYBYTES];
    randombytes_buf(salt, sizeof salt);
    randombytes_buf(nonce, sizeof nonce);
    const unsigned long long ops = crypto_pwhash_OPSLIMIT_MODERATE;
    const std::size_t mem = crypto_pwhash_MEMLIMIT_INTERACTIVE;
    if (crypto_pwhash(k, sizeof k, passphrase.data(), passphrase.size(), salt, ops, mem, crypto_pwhash_ALG_ARGON2ID13) != 0)
        throw SealError("not enough memory for the passphrase's hash");
    std::string plain = key.id + ":" + b64(key.secret_key.data(), key.secret_key.size());
    std::vector<unsigned char> box(plain.size() + crypto_secretbox_MACBYTES);
    crypto_secretbox_easy(box.data(), reinterpret_cast<const unsigned char*>(plain.data()), plain.size(), nonce, k);
    sodium_memzero(k, sizeof k);
    sodium_memzero(plain.data(), plain.size());
    return std::string(kWrapMagic) + " " + key.id + " " + std::to_string(ops) + " " + std::to_string(mem) + " " +
           b64(salt, sizeof salt) + " " + b64(nonce, sizeof nonce) + " " + b64(box.data(), box.size());
}

SealSecretKey unwrap_seal_secret(std::string_view text, const std::string& passphrase) {
    init();
    std::istringstream in{std::string(text)};
    std::string magic, id, salt_b, nonce_b, box_b;
    unsigned long long ops = 0;
    std::size_t mem = 0;
    in >> magic >> id >> ops >> mem >> salt_b >> nonce_b >> box_b;
    if (!in || magic != kWrapMagic || !valid_seal_key_id(id))
        throw SealError("not a wrapped key file (kohtaamo-key-1 ID OPSLIMIT MEMLIMIT SALT NONCE BOX)");
    auto salt = unb64(salt_b), nonce = unb64(nonce_b), box = unb64(box_b);
    if (!salt || salt->size() != crypto_pwhash_SALTBYTES || !nonce || nonce->size() != crypto_secretbox_NONCEBYTES ||
        !box || box->size() <= crypto_secretbox_MACBYTES || ops < crypto_pwhash_OPSLIMIT_MIN ||
        ops > crypto_pwhash_OPSLIMIT_SENSITIVE || mem < crypto_pwhash_MEMLIMIT_MIN ||
        mem > crypto_pwhash_MEMLIMIT_SENSITIVE)
        throw SealError("the wrapped key file is damaged");
    if (passphrase.empty()) throw SealError("the key file is locked with a passphrase; give it");
    unsigned char k[crypto_secretbox_KEYBYTES];
    if (crypto_pwhash(k, sizeof k, passphrase.data(), passphrase.size(),
                      reinterpret_cast<const unsigned char*>(salt->data()), ops, mem, crypto_pwhash_ALG_ARGON2ID13) != 0)
        throw SealError("not enough memory for the passphrase's hash");
    std::string plain(box->size() - crypto_secretbox_MACBYTES, '\0');
    const int rc = crypto_secretbox_open_easy(reinterpret_cast<unsigned char*>(plain.data()),
                                              reinterpret_cast<const unsigned char*>(box->data()), box->size(),
                                              reinterpret_cast<const unsigned char*>(nonce->data()), k);
    sodium_memzero(k, sizeof k);
    if (rc != 0) throw SealError("the passphrase does not open key \"" + id + "\" (or the file is altered)");
    SealSecretKey s = parse_seal_secret_key(plain);
    sodium_memzero(plain.data(), plain.size());
    return s;
}

AnswerHasher::AnswerHasher() {
    init();
    randombytes_buf(key_.data(), key_.size());
}

AnswerHasher::~AnswerHasher() { sodium_memzero(key_.data(), key_.size()); }

std::string AnswerHasher::answer(std::string_view question_id, std::string_view value) const {
    crypto_generichash_state st;
    crypto_generichash_init(&st, key_.data(), key_.size(), 32);
    for (std::string_view part : {question_id, value}) {
        const std::uint64_t n = part.size();
        crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(&n), sizeof n);
        crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(part.data()), part.size());
    }
    std::string out(32, '\0');
    crypto_generichash_final(&st, reinterpret_cast<unsigned char*>(out.data()), out.size());
    return out;
}

std::string AnswerHasher::set(std::vector<std::string> hashes) const {
    std::sort(hashes.begin(), hashes.end());
    crypto_generichash_state st;
    crypto_generichash_init(&st, key_.data(), key_.size(), 32);
    for (const auto& h : hashes)
        crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(h.data()), h.size());
    std::string out(32, '\0');
    crypto_generichash_final(&st, reinterpret_cast<unsigned char*>(out.data()), out.size());
    return out;
}

}  // namespace kohtaamo
