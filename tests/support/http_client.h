// Test support: a minimal blocking HTTP/1.1 client over loopback TCP (one connection per request),
// used to test the real server on an ephemeral port.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace tl::testing {

struct HttpResult {
  int status = 0;  // 0: connection failed or closed without a response
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::string Header(const std::string& lower) const {
    auto it = headers.find(lower);
    return it == headers.end() ? std::string() : it->second;
  }
};

HttpResult HttpRequest(uint16_t port, const std::string& method, const std::string& target, const std::string& body = {},
                       const std::vector<std::pair<std::string, std::string>>& headers = {});

// Sends raw bytes and returns whatever comes back until the server closes (for malformed requests).
std::string RawExchange(uint16_t port, const std::string& bytes);

}  // namespace tl::testing
