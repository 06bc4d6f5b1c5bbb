// seal.hpp — sealed answers (docs/security.md): the county's X25519 key pair with a key id,
// libsodium's sealed boxes, and the keyed hashes the kiosk compares instead of clear text.
//
//  - A public key ("k1:BASE64", a kiosk's [privacy] seal_to) seals: crypto_box_seal of the
//    value padded (sodium_pad) to a multiple of kSealBlock bytes, so a box does not tell
//    one short choice id from another by its length. Anyone with the public key can seal;
//    only the secret half opens.
//  - A secret key ("k1:BASE64", a file of the collector's, made by `kohtaamo-collector
//    keys`) opens. On a coordinator's stick it is wrapped with a passphrase
//    (wrap_seal_secret: Argon2id crypto_pwhash + crypto_secretbox), unwrapped in memory.
//  - AnswerHasher: BLAKE2b (crypto_generichash) keyed with 32 random bytes made when it is
//    constructed and never written anywhere, so its hashes cannot be brute-forced from the
//    disk (a 5-value smiley would fall to 5 guesses with a key beside the data), and mean
//    nothing after a restart.
#pragma once
#include <array>
#include <cstddef>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace kohtaamo {

class SealError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

inline constexpr std::size_t kSealBlock = 32;

// What a kiosk started --fullscreen without [privacy] seal_to says on its coordinator
// screen and in the log.
inline constexpr const char* kNoSealWarning =
    "NOT SEALED: this kiosk stores every answer in clear, readable by anyone who takes its disk. Make a key with "
    "`kohtaamo-collector keys --id k1 --secret FILE` on the collector and set the printed [privacy] seal_to in "
    "kiosk.toml (docs/security.md)";

// "k1": 1 to 16 letters, digits, '-' or '_'.
bool valid_seal_key_id(std::string_view id);

struct SealPublicKey {
    std::string id;
    std::array<unsigned char, 32> key{};
};

struct SealSecretKey {
    std::string id;
    std::array<unsigned char, 32> public_key{};
    std::array<unsigned char, 32> secret_key{};
    SealSecretKey() = default;
    SealSecretKey(const SealSecretKey&) = default;
    SealSecretKey(SealSecretKey&&) = default;
    SealSecretKey& operator=(const SealSecretKey&) = default;
    SealSecretKey& operator=(SealSecretKey&&) = default;
    ~SealSecretKey();  // wipes the secret
};

// A new X25519 key pair (crypto_box_keypair) as {public "ID:BASE64", secret "ID:BASE64"};
// throws SealError for an id that is not valid_seal_key_id().
std::pair<std::string, std::string> new_seal_key_texts(const std::string& id);

// "ID:BASE64" (standard Base64 of 32 bytes); throws SealError saying what is wrong.
SealPublicKey parse_seal_public_key(std::string_view text);
SealSecretKey parse_seal_secret_key(std::string_view text);

// The sealed box of `value` as standard Base64 (no key id). Random: sealing the same value
// twice gives two different boxes.
std::string seal_value(const SealPublicKey& key, std::string_view value);
// Opens a box seal_value() made for this key; nullopt when it is not one (altered, cut, or
// sealed to another key).
std::optional<std::string> open_value(const SealSecretKey& key, std::string_view base64_box);

// The secret keys a reader holds (the collector's [privacy] keys, kohtaamo-export --key).
class SealKeyring {
public:
    void add(SealSecretKey key);
    const SealSecretKey* find(std::string_view id) const;
    bool empty() const { return keys_.empty(); }
    std::string ids() const;  // "k1, k2"

private:
    std::vector<SealSecretKey> keys_;
};

// A key file: the plain secret ("k1:BASE64", mode 0600 on the collector) or a wrapped one
// (wrap_seal_secret, on a coordinator's stick), which needs `passphrase`. Throws SealError
// naming the file (a wrong passphrase: "the passphrase does not open …").
bool is_wrapped_key_file(const std::filesystem::path& file);
SealSecretKey load_seal_key_file(const std::filesystem::path& file, const std::string& passphrase = "");

// The wrapped form of a secret key, one line:
//   kohtaamo-key-1 ID OPSLIMIT MEMLIMIT SALT NONCE BOX
// (Base64 salt, nonce and box; the box is crypto_secretbox of "ID:BASE64" under the key
// crypto_pwhash(Argon2id13, passphrase, salt, OPSLIMIT, MEMLIMIT) makes).
std::string wrap_seal_secret(const SealSecretKey& key, const std::string& passphrase);
SealSecretKey unwrap_seal_secret(std::string_view text, const std::string& passphrase);

class AnswerHasher {
public:
    AnswerHasher();  // a fresh random key, in memory only
    ~AnswerHasher();
    AnswerHasher(const AnswerHasher&) = delete;
    AnswerHasher& operator=(const AnswerHasher&) = delete;
    // 32 bytes over the question and the value (each with its length).
    std::string answer(std::string_view question_id, std::string_view value) const;
    // 32 bytes over a set of answer() hashes (sorted first, so order does not matter).
    std::string set(std::vector<std::string> hashes) const;

private:
    std::array<unsigned char, 32> key_{};
};

}  // namespace kohtaamo
