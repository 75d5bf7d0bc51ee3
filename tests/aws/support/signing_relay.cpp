#include "aws/support/signing_relay.h"

#include <chrono>

namespace websession::testing {

SigningRelay::SigningRelay(std::string target) : target_(std::move(target)) {}

void SigningRelay::expect(const aws::Credentials& c) {
  std::lock_guard lock(mutex_);
  known_ = {{c.access_key_id, c}};
}

std::vector<std::string> SigningRelay::signed_with() const {
  std::lock_guard lock(mutex_);
  return signed_with_;
}

TestAction SigningRelay::handle(const TestRequest& r) {
  {
    std::lock_guard lock(mutex_);
    auto check = verify_sigv4(r, known_, "dynamodb");
    signed_with_.push_back(check.failure.empty() ? check.access_key_id : "refused: " + check.failure);
    if (!check.failure.empty()) {
      return TestAction::respond(
          400, R"({"__type":"com.amazon.coral.service#InvalidSignatureException","message":"relay refused"})");
    }
  }
  auto url = net::Url::parse(target_ + "/");
  std::vector<std::pair<std::string, std::string>> copies;
  for (const char* name : {"content-type", "x-amz-target", "x-amz-date", "authorization", "x-amz-security-token"}) {
    if (std::string v = r.header(name); !v.empty()) copies.emplace_back(name, std::move(v));
  }
  std::vector<net::HeaderView> headers;
  for (const auto& [name, value] : copies) headers.push_back({name, value});
  net::Request request{"POST", &*url, {}, headers, r.body};
  auto response = http_.request(request, std::chrono::steady_clock::now() + std::chrono::seconds(5));
  if (!response) return TestAction::reset();
  return TestAction::respond(static_cast<int>(response->status), response->body);
}

}  // namespace websession::testing
