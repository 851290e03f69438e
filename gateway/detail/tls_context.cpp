// The listener's TLS context and the verified peer's subject (OpenSSL
// through Boost.Asio; no Beast here).
#include "gateway/detail/tls_context.hpp"

#include <openssl/bio.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace provisiond::gateway::detail {

namespace ssl = boost::asio::ssl;

namespace {

// An unreadable file is named with the system's reason; one OpenSSL cannot
// use, with OpenSSL's ("no start line", "key values mismatch").
error tls_error(const std::string& field, const std::string& what, const std::string& file,
                const boost::system::error_code& ec) {
  std::string why = ec.message();
  if (FILE* f = std::fopen(file.c_str(), "r"))
    std::fclose(f);
  else
    why = std::strerror(errno);
  return make_error(errc::invalid_argument, "cannot use " + what + " " + file + ": " + why, "http.tls." + field);
}

}  // namespace

// The verified client certificate's subject in RFC 2253 form, or "".
std::string verified_subject(SSL* ssl) {
  X509* cert = SSL_get1_peer_certificate(ssl);
  if (!cert) return {};
  std::string out;
  if (SSL_get_verify_result(ssl) == X509_V_OK) {
    if (BIO* bio = BIO_new(BIO_s_mem())) {
      if (X509_NAME_print_ex(bio, X509_get_subject_name(cert), 0, XN_FLAG_RFC2253) >= 0) {
        char* data = nullptr;
        long n = BIO_get_mem_data(bio, &data);
        if (n > 0 && data) out.assign(data, static_cast<std::size_t>(n));
      }
      BIO_free(bio);
    }
  }
  X509_free(cert);
  return out;
}

// The listener's TLS: 1.2 or later, its chain and key, and with a client CA
// a certificate asked for (required with require_client_cert) and verified.
result<std::unique_ptr<ssl::context>> make_tls_context(const tls_settings& t) {
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_server);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                   ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
  boost::system::error_code ec;
  ctx->use_certificate_chain_file(t.cert_file, ec);
  if (ec) return tls_error("certFile", "the certificate chain", t.cert_file, ec);
  ctx->use_private_key_file(t.key_file, ssl::context::pem, ec);
  if (ec) return tls_error("keyFile", "the private key", t.key_file, ec);
  if (SSL_CTX_check_private_key(ctx->native_handle()) != 1)
    return make_error(errc::invalid_argument, "the private key does not match the certificate", "http.tls.keyFile");
  if (t.client_ca_file.empty()) return ctx;
  ctx->load_verify_file(t.client_ca_file, ec);
  if (ec) return tls_error("clientCaFile", "the client CA bundle", t.client_ca_file, ec);
  // The CA names go in the certificate request, so a client picks a matching certificate.
  if (STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(t.client_ca_file.c_str()))
    SSL_CTX_set_client_CA_list(ctx->native_handle(), names);
  ctx->set_verify_mode(ssl::verify_peer | (t.require_client_cert ? ssl::verify_fail_if_no_peer_cert : 0));
  // Resumed sessions keep the verified certificate; OpenSSL needs an id context for that.
  static constexpr unsigned char session_context[] = "provisiond-http";
  SSL_CTX_set_session_id_context(ctx->native_handle(), session_context, sizeof session_context - 1);
  return ctx;
}

}  // namespace provisiond::gateway::detail
