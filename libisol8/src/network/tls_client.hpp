// TLS for isol8's HTTPS clients (remote code fetching, RemoteIsol8): TLS 1.2 or later, the
// server's certificate verified against the system trust store for the host name the URL
// names, SNI sent for names (never for address literals, RFC 6066).
#pragma once

#include <openssl/ssl.h>

#include <string>

#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>

namespace isol8::detail {

boost::asio::ssl::context makeTlsClientContext();

// Before the handshake of a client stream (beast::ssl_stream or asio::ssl::stream). False when
// the server name cannot be set.
template <typename TlsStream>
bool prepareTlsClient(TlsStream& stream, const std::string& hostName, bool ipLiteral) {
  stream.set_verify_callback(boost::asio::ssl::host_name_verification(hostName));
  return ipLiteral || SSL_set_tlsext_host_name(stream.native_handle(), hostName.c_str());
}

}  // namespace isol8::detail
