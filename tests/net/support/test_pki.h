// A throwaway certificate authority and a server certificate, made at test time with OpenSSL's
// API (no files in the repository, nothing that expires in the tree).
#pragma once

#include <string>
#include <vector>

namespace websession::testing {

struct TestPki {
  std::string ca_cert_pem;
  std::string server_cert_pem;
  std::string server_key_pem;
};

/// A CA named `ca_name` and a server certificate it signed for `dns_names` and `ip_addresses`
/// (subjectAltName), valid from an hour ago for a day. Throws std::runtime_error on any failure.
TestPki make_test_pki(const std::string& ca_name, const std::vector<std::string>& dns_names,
                      const std::vector<std::string>& ip_addresses = {});

}  // namespace websession::testing
