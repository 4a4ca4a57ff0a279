#pragma once
// A throwaway self-signed certificate for TLS tests: EC P-256, valid for one day, subjectAltName
// IP:127.0.0.1 and DNS:localhost. The certificate is its own CA, so pass cert_file as the
// client's CA file (CurlClient{cert.cert_file}) to verify the server.
#include <filesystem>

namespace pgibot::test {

struct SelfSignedCert {
    std::filesystem::path cert_file;  // PEM certificate
    std::filesystem::path key_file;   // PEM private key (unencrypted)
};

// Writes cert.pem and key.pem into `dir`. Throws std::runtime_error on an OpenSSL failure.
SelfSignedCert make_self_signed_cert(const std::filesystem::path& dir);

}  // namespace pgibot::test
