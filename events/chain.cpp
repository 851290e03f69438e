#include "events/chain.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

namespace provisiond::events {

namespace {

void put_u32(std::string& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
}
void put_u64(std::string& out, std::uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
}
void put_str(std::string& out, std::string_view s) {
  put_u32(out, static_cast<std::uint32_t>(s.size()));
  out.append(s);
}
std::uint64_t get_u64(const char* p) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

// SHA-256 of the concatenation of `parts`.
template <std::size_t N>
std::string sha256(const std::array<std::string_view, N>& parts) {
  // The append path hashes twice per event: the algorithm is fetched once
  // and each thread keeps its context (no allocation or lookup per hash).
  static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  thread_local const std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx{EVP_MD_CTX_new(), &EVP_MD_CTX_free};
  std::string out(hash_size, '\0');
  bool ok = md && ctx && EVP_DigestInit_ex(ctx.get(), md, nullptr) == 1;
  for (auto p : parts) ok = ok && EVP_DigestUpdate(ctx.get(), p.data(), p.size()) == 1;
  unsigned int len = 0;
  ok = ok && EVP_DigestFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len) == 1;
  // SHA-256 in OpenSSL fails only without memory; a zero hash then breaks
  // the chain visibly rather than silently.
  if (!ok) out.assign(hash_size, '\0');
  return out;
}

constexpr std::string_view event_tag = "provisiond.event.v1";
constexpr std::string_view checkpoint_tag = "provisiond.checkpoint.v1";
constexpr char checkpoint_format = 1;

std::string checkpoint_bytes(const checkpoint& c) {
  std::string out;
  put_str(out, checkpoint_tag);
  put_u64(out, c.position);
  out.append(c.digest);
  put_u64(out, static_cast<std::uint64_t>(c.time));
  return out;
}

std::string hmac(const checkpoint& c, const checkpoint_key& key) {
  auto msg = checkpoint_bytes(c);
  std::string out(hash_size, '\0');
  unsigned int len = 0;
  if (!HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(msg.data()),
            msg.size(), reinterpret_cast<unsigned char*>(out.data()), &len))
    out.assign(hash_size, '\0');
  return out;
}

}  // namespace

const std::string& chain_origin() {
  static const std::string zeros(hash_size, '\0');
  return zeros;
}

std::string canonical_bytes(const envelope& e) {
  std::string out;
  out.reserve(64 + event_tag.size() + e.stream.size() * 2 + e.type.size() + e.payload.size());
  put_str(out, event_tag);
  put_str(out, e.stream);
  put_u64(out, e.sequence);
  put_str(out, e.type);
  put_u32(out, e.schema_version);
  put_u64(out, static_cast<std::uint64_t>(e.time));
  put_str(out, e.event_id.empty() ? event_id_of(e.stream, e.sequence) : e.event_id);
  put_str(out, e.payload);
  return out;
}

std::string link_hash(std::string_view previous, const envelope& e) {
  auto bytes = canonical_bytes(e);
  return sha256(std::array<std::string_view, 2>{previous, bytes});
}

void seal_link(envelope& e, std::string_view previous) {
  e.previous_hash = previous.empty() ? chain_origin() : std::string(previous);
  e.hash = link_hash(e.previous_hash, e);
}

bool link_holds(const envelope& e) {
  if (e.hash.size() != hash_size || e.previous_hash.size() != hash_size) return false;
  return CRYPTO_memcmp(link_hash(e.previous_hash, e).data(), e.hash.data(), hash_size) == 0;
}

std::string digest_step(std::string_view digest, const envelope& e) {
  std::string numbers;
  put_u64(numbers, e.global_position);
  put_u64(numbers, e.fencing_token);
  const std::string entry = e.hash.empty() ? link_hash(chain_origin(), e) : e.hash;
  return sha256(std::array<std::string_view, 3>{digest, numbers, entry});
}

result<checkpoint_key> load_checkpoint_key(const std::string& path, bool create, const std::string& field) {
  checkpoint_key k{};
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (!create) return make_error(errc::not_found, "no checkpoint key file " + path, field);
    if (RAND_bytes(k.data(), static_cast<int>(k.size())) != 1)
      return make_error(errc::internal, "no randomness for a new checkpoint key", field);
    fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return make_error(errc::unavailable, "cannot create checkpoint key file " + path, field);
    bool ok = ::write(fd, k.data(), k.size()) == static_cast<ssize_t>(k.size()) && ::fsync(fd) == 0;
    ::close(fd);
    if (!ok) return make_error(errc::unavailable, "cannot write checkpoint key file " + path, field);
    return k;
  }
  struct stat st{};
  bool ok = ::fstat(fd, &st) == 0 && st.st_size == static_cast<off_t>(k.size()) &&
            ::read(fd, k.data(), k.size()) == static_cast<ssize_t>(k.size());
  ::close(fd);
  if (!ok) return make_error(errc::invalid_argument, "checkpoint key file " + path + " must hold exactly 32 bytes", field);
  return k;
}

void sign(checkpoint& c, const checkpoint_key& key) { c.mac = hmac(c, key); }

bool signature_holds(const checkpoint& c, const checkpoint_key& key) {
  if (c.mac.size() != hash_size || c.digest.size() != hash_size) return false;
  return CRYPTO_memcmp(hmac(c, key).data(), c.mac.data(), hash_size) == 0;
}

std::string encode_checkpoint(const checkpoint& c) {
  std::string out;
  out.push_back(checkpoint_format);
  put_u64(out, c.position);
  put_u64(out, static_cast<std::uint64_t>(c.time));
  out.append(c.digest);
  out.append(c.mac);
  return out;
}

result<checkpoint> decode_checkpoint(std::string_view bytes) {
  if (bytes.size() != 1 + 8 + 8 + 2 * hash_size || bytes[0] != checkpoint_format)
    return make_error(errc::internal, "malformed checkpoint record");
  checkpoint c;
  c.position = get_u64(bytes.data() + 1);
  c.time = static_cast<time_ms>(get_u64(bytes.data() + 9));
  c.digest = std::string(bytes.substr(17, hash_size));
  c.mac = std::string(bytes.substr(17 + hash_size, hash_size));
  return c;
}

std::string to_hex(std::string_view raw) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(raw.size() * 2);
  for (unsigned char ch : raw) {
    out.push_back(digits[ch >> 4]);
    out.push_back(digits[ch & 0xf]);
  }
  return out;
}

std::optional<std::string> from_hex(std::string_view hex) {
  auto nibble = [](char ch) -> int {
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
  };
  if (hex.size() % 2) return std::nullopt;
  std::string out;
  out.reserve(hex.size() / 2);
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    int hi = nibble(hex[i]), lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi << 4 | lo));
  }
  return out;
}

}  // namespace provisiond::events
