#pragma once
/// cloud-init's VMware datasource input: the `guestinfo.*` extraConfig keys
/// with the hostname and the root password, which goes in as a SHA-512
/// crypt hash only (anyone who can read the VM's configuration reads
/// guestinfo). Pure apart from crypt(3).

#include <map>
#include <string>

#include "common/result.hpp"

namespace provisiond::providers::vmware {

/// "$6$<salt>$<hash>" of `password`; the salt comes from `salt_seed` so the
/// same request always yields the same user data (a repeated configure step
/// changes nothing).
result<std::string> hash_password(const std::string& password, const std::string& salt_seed);

/// guestinfo.metadata / .userdata (base64) and their encodings, for
/// instance `instance_id` named `hostname`.
std::map<std::string, std::string> guestinfo(const std::string& instance_id, const std::string& hostname,
                                             const std::string& password_hash);

}  // namespace provisiond::providers::vmware
