#include "common/secret_box.hpp"

#include "common/base64.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>

#include <openssl/evp.h>
#include <openssl/rand.h>

namespace provisiond {

namespace {

constexpr std::size_t nonce_size = 12;
constexpr std::size_t tag_size = 16;
constexpr const char* prefix = "v1.";

using ctx_ptr = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

}  // namespace

std::string base64_encode(const std::string& raw) {
  std::string out(4 * ((raw.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(raw.data()), static_cast<int>(raw.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

result<std::string> base64_decode(const std::string& text) {
  if (text.size() % 4 != 0) return make_error(errc::invalid_argument, "not base64");
  std::string out(3 * text.size() / 4 + 1, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  if (n < 0) return make_error(errc::invalid_argument, "not base64");
  std::size_t pad = 0;
  for (auto it = text.rbegin(); it != text.rend() && *it == '='; ++it) ++pad;
  out.resize(static_cast<std::size_t>(n) - pad);
  return out;
}

result<secret_box> secret_box::from_key_file(const std::string& path) {
  key k{};
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (RAND_bytes(k.data(), static_cast<int>(k.size())) != 1)
      return make_error(errc::internal, "no randomness for a new secret key");
    fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return make_error(errc::unavailable, "cannot create secret key file " + path, "secretKeyFile");
    bool ok = ::write(fd, k.data(), k.size()) == static_cast<ssize_t>(k.size()) && ::fsync(fd) == 0;
    ::close(fd);
    if (!ok) return make_error(errc::unavailable, "cannot write secret key file " + path, "secretKeyFile");
    return secret_box{k};
  }
  struct stat st{};
  bool ok = ::fstat(fd, &st) == 0 && st.st_size == static_cast<off_t>(k.size()) &&
            ::read(fd, k.data(), k.size()) == static_cast<ssize_t>(k.size());
  ::close(fd);
  if (!ok) return make_error(errc::invalid_argument, "secret key file " + path + " must hold exactly 32 bytes", "secretKeyFile");
  return secret_box{k};
}

result<std::string> secret_box::seal(const std::string& plaintext, const std::string& context) const {
  std::string raw(nonce_size + plaintext.size() + tag_size, '\0');
  auto* nonce = reinterpret_cast<unsigned char*>(raw.data());
  if (RAND_bytes(nonce, nonce_size) != 1) return make_error(errc::internal, "no randomness for a nonce");
  ctx_ptr ctx{EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free};
  int len = 0;
  auto* out = nonce + nonce_size;
  bool ok = ctx && EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key_.data(), nonce) == 1 &&
            EVP_EncryptUpdate(ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(context.data()),
                              static_cast<int>(context.size())) == 1 &&
            EVP_EncryptUpdate(ctx.get(), out, &len, reinterpret_cast<const unsigned char*>(plaintext.data()),
                              static_cast<int>(plaintext.size())) == 1 &&
            EVP_EncryptFinal_ex(ctx.get(), out + len, &len) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, tag_size, out + plaintext.size()) == 1;
  if (!ok) return make_error(errc::internal, "encryption failed");
  return prefix + base64_encode(raw);
}

result<std::string> secret_box::open(const std::string& sealed, const std::string& context) const {
  if (sealed.rfind(prefix, 0) != 0) return make_error(errc::invalid_argument, "not a sealed value");
  auto raw = base64_decode(sealed.substr(3));
  if (!raw) return make_error(errc::invalid_argument, "sealed value is not base64");
  if (raw->size() < nonce_size + tag_size) return make_error(errc::invalid_argument, "sealed value too short");
  auto* nonce = reinterpret_cast<unsigned char*>(raw->data());
  auto* body = nonce + nonce_size;
  std::size_t n = raw->size() - nonce_size - tag_size;
  std::string plain(n, '\0');
  ctx_ptr ctx{EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free};
  int len = 0;
  auto* out = reinterpret_cast<unsigned char*>(plain.data());
  bool ok = ctx && EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key_.data(), nonce) == 1 &&
            EVP_DecryptUpdate(ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(context.data()),
                              static_cast<int>(context.size())) == 1 &&
            EVP_DecryptUpdate(ctx.get(), out, &len, body, static_cast<int>(n)) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, tag_size, body + n) == 1 &&
            EVP_DecryptFinal_ex(ctx.get(), out + len, &len) == 1;
  if (!ok) return make_error(errc::permanent, "sealed value does not open with this key (tampered, or another key)");
  return plain;
}

}  // namespace provisiond
