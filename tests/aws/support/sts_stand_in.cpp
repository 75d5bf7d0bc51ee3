#include "aws/support/sts_stand_in.h"

#include <cstdio>
#include <ctime>

namespace websession::testing {
namespace {

std::string iso8601(std::chrono::system_clock::time_point t) {
  const std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string error_xml(const std::string& code, const std::string& message) {
  return "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type><Code>" + code +
         "</Code><Message>" + message + "</Message></Error><RequestId>test</RequestId></ErrorResponse>";
}

}  // namespace

StsStandIn::StsStandIn(std::chrono::seconds lifetime, std::function<std::chrono::system_clock::time_point()> now)
    : lifetime_(lifetime),
      now_(now ? std::move(now) : [] { return std::chrono::system_clock::now(); }),
      server_([this](const TestRequest& r) { return handle(r); }) {}

void StsStandIn::accept(const aws::Credentials& source) {
  std::lock_guard lock(mutex_);
  known_[source.access_key_id] = source;
}

void StsStandIn::accept_web_identity_token(std::string token) {
  std::lock_guard lock(mutex_);
  web_identity_token_ = std::move(token);
}

void StsStandIn::fail_next(int n, int status, std::string code) {
  std::lock_guard lock(mutex_);
  fail_remaining_ = n;
  fail_status_ = status;
  fail_code_ = std::move(code);
}

void StsStandIn::expire_once(std::string access_key_id) {
  std::lock_guard lock(mutex_);
  expire_key_ = std::move(access_key_id);
}

std::vector<StsCall> StsStandIn::calls() const {
  std::lock_guard lock(mutex_);
  return calls_;
}

aws::Credentials StsStandIn::issued(std::size_t n) const {
  std::lock_guard lock(mutex_);
  return issued_.at(n);
}

std::size_t StsStandIn::issued_count() const {
  std::lock_guard lock(mutex_);
  return issued_.size();
}

TestAction StsStandIn::refuse(StsCall& call, int status, const std::string& code, const std::string& message) {
  call.refused = code;
  calls_.push_back(call);
  return TestAction::respond(status, error_xml(code, message), "text/xml", false);
}

TestAction StsStandIn::issue(StsCall& call) {
  const std::size_t n = issued_.size() + 1;
  aws::Credentials c{"ASIASTS" + std::to_string(n), "sts-secret-" + std::to_string(n), "sts-token-" + std::to_string(n),
                     now_() + lifetime_};
  issued_.push_back(c);
  known_[c.access_key_id] = c;  // issued credentials may sign the next AssumeRole (role chains)
  calls_.push_back(call);
  const std::string result = call.action + "Result";
  std::string xml = "<" + call.action + "Response xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><" + result +
                    "><Credentials><AccessKeyId>" + c.access_key_id + "</AccessKeyId><SecretAccessKey>" +
                    c.secret_access_key + "</SecretAccessKey><SessionToken>" + c.session_token +
                    "</SessionToken><Expiration>" + iso8601(*c.expiration) + "</Expiration></Credentials>" +
                    "<AssumedRoleUser><Arn>" + call.role_arn + "</Arn></AssumedRoleUser></" + result + "></" +
                    call.action + "Response>";
  return TestAction::respond(200, xml, "text/xml", false);
}

TestAction StsStandIn::handle(const TestRequest& request) {
  std::lock_guard lock(mutex_);
  auto form = parse_form(request.body);
  StsCall call{form["Action"], form["RoleArn"], form["RoleSessionName"], form["ExternalId"],
               form["DurationSeconds"], form["WebIdentityToken"], "", "", ""};
  if (request.method != "POST" || form["Version"] != "2011-06-15" ||
      request.header("content-type").find("application/x-www-form-urlencoded") != 0) {
    return refuse(call, 400, "InvalidAction", "not a query API request");
  }
  if (fail_remaining_ > 0) {
    --fail_remaining_;
    return refuse(call, fail_status_, fail_code_, "the stand-in was told to fail");
  }
  if (call.action == "AssumeRoleWithWebIdentity") {
    if (!request.header("authorization").empty()) return refuse(call, 400, "InvalidRequest", "must be unsigned");
    if (call.web_identity_token.empty() || call.web_identity_token != web_identity_token_) {
      return refuse(call, 400, "InvalidIdentityToken", "Incorrect token audience");
    }
    return issue(call);
  }
  if (call.action != "AssumeRole") return refuse(call, 400, "InvalidAction", "unknown action");
  const SigV4Check check = verify_sigv4(request, known_, "sts");
  call.signed_with = check.access_key_id;
  call.region = check.region;
  if (!check.failure.empty()) return refuse(call, 403, "SignatureDoesNotMatch", check.failure);
  if (!expire_key_.empty() && expire_key_ == check.access_key_id) {
    expire_key_.clear();
    return refuse(call, 400, "ExpiredToken", "The security token included in the request is expired");
  }
  return issue(call);
}

SsoPortalStandIn::SsoPortalStandIn(std::string bearer_token, std::chrono::system_clock::time_point expiration)
    : bearer_token_(std::move(bearer_token)),
      expiration_(expiration),
      server_([this](const TestRequest& r) { return handle(r); }) {}

void SsoPortalStandIn::fail_next(int n, int status) {
  std::lock_guard lock(mutex_);
  fail_remaining_ = n;
  fail_status_ = status;
}

aws::Credentials SsoPortalStandIn::credentials() const {
  return {"ASIASSO", "sso-secret", "sso-session-token", expiration_};
}

TestAction SsoPortalStandIn::handle(const TestRequest& request) {
  std::lock_guard lock(mutex_);
  if (fail_remaining_ > 0) {
    --fail_remaining_;
    return TestAction::respond(fail_status_, R"({"message":"try later"})", "application/json", false);
  }
  if (request.method != "GET" || !request.target.starts_with("/federation/credentials?") ||
      request.target.find("role_name=") == std::string::npos || request.target.find("account_id=") == std::string::npos) {
    return TestAction::respond(400, R"({"message":"bad request"})", "application/json", false);
  }
  if (request.header("x-amz-sso_bearer_token") != bearer_token_) {
    return TestAction::respond(401, R"({"message":"Session token not found or invalid"})", "application/json", false,
                               0, {{"x-amzn-ErrorType", "UnauthorizedException:http://internal.amazon.com/"}});
  }
  const auto c = credentials();
  const auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(c.expiration->time_since_epoch()).count();
  const std::string body = R"({"roleCredentials":{"accessKeyId":")" + c.access_key_id + R"(","secretAccessKey":")" +
                           c.secret_access_key + R"(","sessionToken":")" + c.session_token +
                           R"(","expiration":)" + std::to_string(millis) + "}}";
  return TestAction::respond(200, body, "application/json", false);
}

}  // namespace websession::testing
