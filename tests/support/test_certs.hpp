#pragma once
/// Certificates for the TLS tests, made at test time with the openssl CLI in
/// `d`: ca.pem/ca.key, other-ca.pem, server.pem/server.key (localhost and
/// 127.0.0.1, from ca), client.pem/client.key (O=platform, CN=order-saga,
/// from ca) and other-client.pem (the same subject from other-ca).

#include <cstdlib>
#include <string>

#include "tests/support/temp_dir.hpp"

namespace provisiond::testing {

inline bool make_test_certs(const temp_dir& d) {
  auto q = [](const std::string& s) { return "'" + s + "'"; };
  std::string cmd =
      "cd " + q(d.str()) +
      " && { "
      "openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=test-ca && "
      "openssl req -x509 -newkey rsa:2048 -nodes -keyout other-ca.key -out other-ca.pem -days 2 "
      "-subj /CN=other-ca && "
      "printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' > san.ext && "
      "openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj /CN=localhost && "
      "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem "
      "-days 2 -extfile san.ext && "
      "openssl req -newkey rsa:2048 -nodes -keyout client.key -out client.csr "
      "-subj /O=platform/CN=order-saga && "
      "openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out client.pem -days 2 && "
      "openssl x509 -req -in client.csr -CA other-ca.pem -CAkey other-ca.key -CAcreateserial "
      "-out other-client.pem -days 2; } >/dev/null 2>&1";
  return std::system(cmd.c_str()) == 0;
}

}  // namespace provisiond::testing
