#include "websession/aws/sts.h"

#include <array>
#include <cstdlib>
#include <utility>
#include <vector>

#include "aws/detail/util.h"
#include "websession/aws/sigv4.h"
#include "websession/net/http_client.h"

namespace websession::aws {
namespace {

using std::chrono::system_clock;

constexpr std::string_view kFormType = "application/x-www-form-urlencoded; charset=utf-8";

void add_param(std::string& body, std::string_view name, std::string_view value) {
  if (!body.empty()) body.push_back('&');
  body.append(name).push_back('=');
  uri_encode(value, body);
}

// Appends the UTF-8 encoding of `code` (an XML character reference).
void append_utf8(std::string& out, unsigned long code) {
  if (code < 0x80) {
    out.push_back(static_cast<char>(code));
  } else if (code < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (code >> 6)));
    out.push_back(static_cast<char>(0x80 | (code & 0x3F)));
  } else if (code < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (code >> 12)));
    out.push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (code & 0x3F)));
  } else if (code < 0x110000) {
    out.push_back(static_cast<char>(0xF0 | (code >> 18)));
    out.push_back(static_cast<char>(0x80 | ((code >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (code & 0x3F)));
  }
}

// XML text with its five predefined entities and character references decoded.
std::string xml_unescape(std::string_view text) {
  static constexpr std::array<std::pair<std::string_view, char>, 5> kEntities{
      {{"amp;", '&'}, {"lt;", '<'}, {"gt;", '>'}, {"quot;", '"'}, {"apos;", '\''}}};
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '&') {
      out.push_back(text[i]);
      continue;
    }
    std::string_view rest = text.substr(i + 1);
    bool done = false;
    for (const auto& [name, c] : kEntities) {
      if (rest.starts_with(name)) {
        out.push_back(c);
        i += name.size();
        done = true;
        break;
      }
    }
    std::size_t semi = rest.find(';');
    if (!done && rest.starts_with("#") && semi != std::string_view::npos && semi > 1 && semi < 10) {
      const bool hex = rest[1] == 'x' || rest[1] == 'X';
      const std::string digits(rest.substr(hex ? 2 : 1, semi - (hex ? 2 : 1)));
      char* end = nullptr;
      const unsigned long code = std::strtoul(digits.c_str(), &end, hex ? 16 : 10);
      if (!digits.empty() && end != nullptr && *end == '\0') {
        append_utf8(out, code);
        i += semi + 1;
        done = true;
      }
    }
    if (!done) out.push_back('&');
  }
  return out;
}

// The text of the first <name>...</name> in `doc`, decoded; nullopt when absent.
std::optional<std::string> xml_element(std::string_view doc, std::string_view name) {
  std::string open = "<";
  open.append(name).append(">");
  std::string close = "</";
  close.append(name).append(">");
  std::size_t begin = doc.find(open);
  if (begin == std::string_view::npos) return std::nullopt;
  begin += open.size();
  std::size_t end = doc.find(close, begin);
  if (end == std::string_view::npos) return std::nullopt;
  return xml_unescape(doc.substr(begin, end - begin));
}

// The raw text between <name> and </name> (for searching inside it), or empty.
std::string_view xml_scope(std::string_view doc, std::string_view name) {
  std::string open = "<";
  open.append(name).append(">");
  std::string close = "</";
  close.append(name).append(">");
  std::size_t begin = doc.find(open);
  if (begin == std::string_view::npos) return {};
  begin += open.size();
  std::size_t end = doc.find(close, begin);
  if (end == std::string_view::npos) return {};
  return doc.substr(begin, end - begin);
}

bool transient_sts_code(std::string_view code) {
  return code == "Throttling" || code == "ThrottlingException" || code == "RequestLimitExceeded" ||
         code == "IDPCommunicationError" || code == "InternalFailure" || code == "ServiceUnavailable";
}

Result<Credentials> sts_error(std::string_view action, unsigned status, std::string_view body,
                              std::span<const std::string_view> secrets) {
  std::string_view error = xml_scope(body, "Error");
  const std::string code = xml_element(error, "Code").value_or("");
  const bool retry = status >= 500 || status == 429 || transient_sts_code(code);
  std::string message = "STS " + std::string(action) + ": ";
  if (code.empty()) {
    // Not STS's XML (a proxy's page, a load balancer): never copied, only the status is named.
    message += "HTTP status " + std::to_string(status);
  } else {
    message += detail::safe_excerpt(code, {}, 64);
    if (auto text = xml_element(error, "Message"); text && !text->empty()) {
      message += ": " + detail::safe_excerpt(*text, secrets);
    }
  }
  return Error(retry ? ErrorCode::unavailable : ErrorCode::permission_denied, std::move(message),
               detail::safe_excerpt(code, {}, 64));
}

}  // namespace

std::string assume_role_body(const AssumeRoleParams& params) {
  std::string body;
  add_param(body, "Action", "AssumeRole");
  add_param(body, "Version", "2011-06-15");
  add_param(body, "RoleArn", params.role_arn);
  add_param(body, "RoleSessionName", params.role_session_name);
  if (params.external_id) add_param(body, "ExternalId", *params.external_id);
  if (params.duration_seconds) add_param(body, "DurationSeconds", std::to_string(*params.duration_seconds));
  return body;
}

std::string assume_role_with_web_identity_body(const WebIdentityParams& params) {
  std::string body;
  add_param(body, "Action", "AssumeRoleWithWebIdentity");
  add_param(body, "Version", "2011-06-15");
  add_param(body, "RoleArn", params.role_arn);
  add_param(body, "RoleSessionName", params.role_session_name);
  add_param(body, "WebIdentityToken", params.token);
  if (params.duration_seconds) add_param(body, "DurationSeconds", std::to_string(*params.duration_seconds));
  return body;
}

std::string default_role_session_name(system_clock::time_point now) {
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  return "websession-" + std::to_string(seconds);
}

bool valid_role_session_name(std::string_view name) noexcept {
  if (name.size() < 2 || name.size() > 64) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    std::string_view("_+=,.@-").find(c) != std::string_view::npos;
    if (!ok) return false;
  }
  return true;
}

Result<Credentials> parse_sts_response(std::string_view action, unsigned status, std::string_view body,
                                       std::span<const std::string_view> secrets) {
  if (status != 200) return sts_error(action, status, body, secrets);
  std::string_view result = xml_scope(body, std::string(action) + "Result");
  std::string_view creds = xml_scope(result, "Credentials");
  auto key = xml_element(creds, "AccessKeyId");
  auto secret = xml_element(creds, "SecretAccessKey");
  auto token = xml_element(creds, "SessionToken");
  auto expiration = xml_element(creds, "Expiration");
  const std::string what = "STS " + std::string(action) + ": ";
  if (!key || !secret || !token || key->empty() || secret->empty() || token->empty() || !expiration) {
    return Error(ErrorCode::unavailable, what + "malformed answer (no credentials)", "MalformedResponse");
  }
  auto expires = parse_iso8601(*expiration);
  if (!expires) return Error(ErrorCode::unavailable, what + "malformed Expiration", "MalformedResponse");
  return Credentials{std::move(*key), std::move(*secret), std::move(*token), expires};
}

std::string sts_endpoint(const GetEnv& getenv, std::string_view region, const ProfileProperties* profile,
                         const SharedConfig& config) {
  return resolve_service_endpoint(getenv, {"STS", "sts", "sts"}, region, profile, config);
}

// ---- StsClient -------------------------------------------------------------------------------

struct StsClient::Impl {
  std::string region;
  Endpoint endpoint;
  net::Url url;
  Signer signer;
  detail::ServiceHttp http;

  Impl(std::string r, Endpoint e, net::Url u, ServiceCallOptions options, GetEnv getenv, SystemClock clock)
      : region(std::move(r)),
        endpoint(std::move(e)),
        url(std::move(u)),
        signer(region, "sts", std::move(clock)),
        http(std::move(options), std::move(getenv)) {}

  // POSTs `body` with `headers` and reads STS's answer to `action`.
  Task<Result<Credentials>> post(std::string_view action, std::span<const net::HeaderView> headers,
                                 std::string_view body, std::span<const std::string_view> secrets) {
    net::Request request{"POST", &url, {}, headers, body};
    auto response = co_await http.co_send(request);
    if (!response) {
      std::string prefix = "STS " + std::string(action) + " at " + endpoint.url;
      co_return detail::with_context(std::move(response).error(), prefix);
    }
    co_return parse_sts_response(action, response->status, response->body, secrets);
  }
};

StsClient::StsClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
StsClient::~StsClient() = default;

Result<std::shared_ptr<StsClient>> StsClient::create(std::string region, std::string endpoint,
                                                     ServiceCallOptions options, GetEnv getenv, SystemClock clock) {
  if (!valid_region(region)) return Error(ErrorCode::permission_denied, "malformed region '" + region + "' for STS");
  auto parsed = parse_endpoint(endpoint);
  if (!parsed) return Error(ErrorCode::permission_denied, "STS endpoint: " + parsed.error().message);
  auto url = net::Url::parse(parsed->url);
  if (!url) return Error(ErrorCode::permission_denied, "STS endpoint: " + url.error().message);
  auto impl = std::make_unique<Impl>(std::move(region), std::move(*parsed), std::move(*url), std::move(options),
                                     or_process_environment(std::move(getenv)), std::move(clock));
  return std::shared_ptr<StsClient>(new StsClient(std::move(impl)));
}

const std::string& StsClient::region() const noexcept { return impl_->region; }
const std::string& StsClient::endpoint() const noexcept { return impl_->endpoint.url; }

Task<Result<Credentials>> StsClient::co_assume_role(const Credentials& source, const AssumeRoleParams& params) {
  AssumeRoleParams p = params;
  if (p.role_session_name.empty()) p.role_session_name = default_role_session_name(impl_->signer.now());
  const std::string body = assume_role_body(p);
  const std::string amz_date = format_amz_date(impl_->signer.now());
  const std::string& host = impl_->endpoint.host_header;
  std::vector<HeaderView> signed_headers{{"content-type", kFormType}, {"host", host}, {"x-amz-date", amz_date}};
  if (!source.session_token.empty()) signed_headers.push_back({"x-amz-security-token", source.session_token});
  const SignableRequest signable{"POST", impl_->endpoint.path, "", signed_headers, body};
  auto authorization = impl_->signer.authorization(source, signable, amz_date);
  if (!authorization) co_return std::move(authorization).error();
  std::vector<net::HeaderView> headers{
      {"Host", host}, {"Content-Type", kFormType}, {"X-Amz-Date", amz_date}, {"Authorization", *authorization}};
  if (!source.session_token.empty()) headers.push_back({"X-Amz-Security-Token", source.session_token});
  const std::string_view action = "AssumeRole";
  co_return co_await impl_->post(action, headers, body, {});
}

Task<Result<Credentials>> StsClient::co_assume_role_with_web_identity(const WebIdentityParams& params) {
  WebIdentityParams p = params;
  if (p.role_session_name.empty()) p.role_session_name = default_role_session_name(impl_->signer.now());
  const std::string body = assume_role_with_web_identity_body(p);
  const std::string& host = impl_->endpoint.host_header;
  const std::array<net::HeaderView, 2> headers{{{"Host", host}, {"Content-Type", kFormType}}};
  const std::array<std::string_view, 1> secrets{p.token};
  const std::string_view action = "AssumeRoleWithWebIdentity";
  co_return co_await impl_->post(action, headers, body, secrets);
}

// ---- AssumeRole ------------------------------------------------------------------------------

AssumeRoleCredentialsProvider::AssumeRoleCredentialsProvider(std::shared_ptr<CredentialsProvider> source,
                                                             AssumeRoleParams params, std::shared_ptr<StsClient> sts)
    : source_(std::move(source)), params_(std::move(params)), sts_(std::move(sts)) {}

Result<CredentialsPtr> AssumeRoleCredentialsProvider::credentials() {
  return run_blocking([this] { return co_credentials(); });
}

namespace {

// The source's error as the role's: a source that is configured but absent (no instance metadata,
// no environment keys) is a configuration problem of the role, not "no credentials here".
Error source_error(Error e, std::string_view source_name) {
  if (e.code == ErrorCode::not_found) e.code = ErrorCode::permission_denied;
  std::string prefix = "source credentials (";
  prefix.append(source_name).append(")");
  return detail::with_context(std::move(e), prefix);
}

}  // namespace

Task<Result<CredentialsPtr>> AssumeRoleCredentialsProvider::co_credentials() {
  for (int attempt = 0;; ++attempt) {
    auto source = co_await source_->co_credentials();
    if (!source) co_return source_error(std::move(source).error(), source_->name());
    const CredentialsPtr held = *source;  // kept alive across the call
    auto role = co_await sts_->co_assume_role(*held, params_);
    if (role) co_return detail::to_pointer(std::move(role));
    // Source credentials that STS finds expired (a cached session token revoked early): fetch
    // them again, once.
    if (attempt == 0 && role.error().service_type == "ExpiredToken") {
      source_->invalidate();
      continue;
    }
    co_return std::move(role).error();
  }
}

// ---- web identity ----------------------------------------------------------------------------

WebIdentityCredentialsProvider::WebIdentityCredentialsProvider(GetEnv getenv, CredentialSourceOptions options,
                                                               std::optional<std::string> profile)
    : getenv_(or_process_environment(std::move(getenv))), options_(std::move(options)), profile_(std::move(profile)) {}

WebIdentityCredentialsProvider::WebIdentityCredentialsProvider(WebIdentityConfig config, std::shared_ptr<StsClient> sts)
    : fixed_(std::move(config)), sts_(std::move(sts)) {}

Result<WebIdentityConfig> WebIdentityCredentialsProvider::configuration() const {
  if (fixed_) return *fixed_;
  WebIdentityConfig c;
  auto file = detail::non_empty(getenv_, "AWS_WEB_IDENTITY_TOKEN_FILE");
  if (!file) return Error(ErrorCode::not_found, "AWS_WEB_IDENTITY_TOKEN_FILE not set");
  auto role = detail::non_empty(getenv_, "AWS_ROLE_ARN");
  if (!role) return Error(ErrorCode::permission_denied, "AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not");
  c.token_file = std::move(*file);
  c.role_arn = std::move(*role);
  c.role_session_name = detail::non_empty(getenv_, "AWS_ROLE_SESSION_NAME").value_or("");
  if (!c.role_session_name.empty() && !valid_role_session_name(c.role_session_name)) {
    return Error(ErrorCode::permission_denied, "AWS_ROLE_SESSION_NAME must be 2 to 64 of letters, digits and _+=,.@-");
  }
  return c;
}

Result<std::shared_ptr<StsClient>> WebIdentityCredentialsProvider::sts() {
  std::lock_guard lock(mutex_);
  if (sts_) return sts_;
  // From the environment: region and endpoint as the SDKs find them, once.
  const std::string profile = profile_ ? *profile_ : active_profile(getenv_);
  const SharedConfig config = load_config_file(shared_config_path(getenv_));
  auto it = config.profiles.find(profile);
  const ProfileProperties* properties = it == config.profiles.end() ? nullptr : &it->second;
  std::string region = options_.region.value_or(resolve_region(getenv_, profile).value_or("us-east-1"));
  auto client = StsClient::create(region, sts_endpoint(getenv_, region, properties, config), options_.services,
                                  getenv_, options_.clock);
  if (!client) return std::move(client).error();
  sts_ = *client;
  return sts_;
}

Result<CredentialsPtr> WebIdentityCredentialsProvider::credentials() {
  return run_blocking([this] { return co_credentials(); });
}

Task<Result<CredentialsPtr>> WebIdentityCredentialsProvider::co_credentials() {
  auto config = configuration();
  if (!config) co_return std::move(config).error();
  auto sts_client = sts();
  if (!sts_client) co_return std::move(sts_client).error();
  auto token = detail::read_file(config->token_file);
  if (!token) {
    co_return Error(ErrorCode::permission_denied, "cannot read the web identity token file " + config->token_file);
  }
  while (!token->empty() && std::string_view(" \t\r\n").find(token->back()) != std::string_view::npos) {
    token->pop_back();
  }
  if (token->empty()) {
    co_return Error(ErrorCode::permission_denied, "the web identity token file " + config->token_file + " is empty");
  }
  WebIdentityParams params{config->role_arn, config->role_session_name, std::move(*token), config->duration_seconds};
  auto role = co_await (*sts_client)->co_assume_role_with_web_identity(params);
  co_return detail::to_pointer(std::move(role));
}

}  // namespace websession::aws
