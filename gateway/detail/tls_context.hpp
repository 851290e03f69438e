#pragma once
/// TLS on the HTTP listener (http.tls): the server context, and the subject
/// of a client certificate the handshake verified. Used by http_server.cpp
/// only; kept apart so the Beast unit holds the HTTP session alone.

#include <memory>
#include <string>

#include <openssl/ssl.h>

#include <boost/asio/ssl/context.hpp>

#include "common/result.hpp"
#include "common/settings.hpp"

namespace provisiond::gateway::detail {

/// TLS 1.2 or later with the certificate chain and key; with a client CA, a
/// certificate asked for (required with require_client_cert) and verified.
/// An unusable file is an error naming its http.tls field.
result<std::unique_ptr<boost::asio::ssl::context>> make_tls_context(const tls_settings& t);

/// The verified client certificate's subject in RFC 2253 form, or "".
std::string verified_subject(SSL* ssl);

}  // namespace provisiond::gateway::detail
