#include "providers/vmware/guestinfo.hpp"

#include <crypt.h>

#include <cstring>

#include <openssl/sha.h>

#include "common/base64.hpp"
#include "providers/provider.hpp"

namespace provisiond::providers::vmware {

result<std::string> hash_password(const std::string& password, const std::string& salt_seed) {
  static constexpr char alphabet[] = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(salt_seed.data()), salt_seed.size(), digest);
  std::string setting = "$6$";
  for (int i = 0; i < 16; ++i) setting += alphabet[digest[i] % 64];
  crypt_data data;
  std::memset(&data, 0, sizeof data);
  const char* out = crypt_r(password.c_str(), setting.c_str(), &data);
  if (!out || out[0] != '$') return permanent_error("crypt", "SHA-512 crypt is not available for the root password");
  return std::string(out);
}

std::map<std::string, std::string> guestinfo(const std::string& instance_id, const std::string& hostname,
                                             const std::string& password_hash) {
  std::string metadata = "instance-id: " + instance_id + "\nlocal-hostname: " + hostname + "\n";
  std::string userdata =
      "#cloud-config\nhostname: " + hostname + "\nfqdn: " + hostname +
      "\nssh_pwauth: true\ndisable_root: false\nchpasswd:\n  expire: false\n  list: |\n    root:" + password_hash +
      "\n";
  return {{"guestinfo.metadata", base64_encode(metadata)},
          {"guestinfo.metadata.encoding", "base64"},
          {"guestinfo.userdata", base64_encode(userdata)},
          {"guestinfo.userdata.encoding", "base64"}};
}

}  // namespace provisiond::providers::vmware
