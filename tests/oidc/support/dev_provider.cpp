#include "oidc/support/dev_provider.h"

#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdlib>
#include <stdexcept>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <httplib.h>

namespace websession::testing {
namespace {

bool executable(const std::string& path) { return !path.empty() && ::access(path.c_str(), X_OK) == 0; }

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

HttpAnswer to_answer(const httplib::Result& r, const std::string& what) {
  if (!r) throw std::runtime_error("the development provider did not answer " + what);
  HttpAnswer out;
  out.status = r->status;
  for (const auto& [name, value] : r->headers) out.headers.emplace(lower(name), value);
  out.body = r->body;
  return out;
}

boost::json::object json_object(const HttpAnswer& a, const std::string& what) {
  if (a.status != 200) throw std::runtime_error(what + " answered HTTP " + std::to_string(a.status) + ": " + a.body);
  return boost::json::parse(a.body).as_object();
}

// The name=value part of each Set-Cookie header, into `jar`.
void keep_cookies(const HttpAnswer& a, std::map<std::string, std::string>& jar) {
  auto [from, to] = a.headers.equal_range("set-cookie");
  for (auto it = from; it != to; ++it) {
    const std::string pair = it->second.substr(0, it->second.find(';'));
    const std::size_t eq = pair.find('=');
    if (eq != std::string::npos) jar[pair.substr(0, eq)] = pair.substr(eq + 1);
  }
}

std::string cookie_header(const std::map<std::string, std::string>& jar) {
  std::string out;
  for (const auto& [name, value] : jar) out += (out.empty() ? "" : "; ") + name + "=" + value;
  return out;
}

}  // namespace

std::string HttpAnswer::header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? std::string() : it->second;
}

DevProviderSetup find_dev_provider() {
  DevProviderSetup s;
  s.script = WEBSESSION_DEV_PROVIDER_SCRIPT;
  const char* env = std::getenv("WEBSESSION_NODE22");
  s.node = env != nullptr && *env != '\0' ? std::string(env) : std::string(WEBSESSION_NODE22_DEFAULT);
  if (!executable(s.node)) {
    s.problem = "no Node.js 22 at " + s.node + ": run ./scripts/test (it installs one), or set WEBSESSION_NODE22";
  } else if (::access(WEBSESSION_OIDC_PROVIDER_PACKAGE, R_OK) != 0) {
    s.problem = "oidc-provider is not installed (npm ci at the project's root; ./scripts/test does it)";
  }
  return s;
}

DevProvider::DevProvider(const DevProviderOptions& options) : options_(options) {
  const DevProviderSetup setup = find_dev_provider();
  if (!setup.problem.empty()) throw std::runtime_error(setup.problem);
  std::vector<std::string> argv = {setup.node, setup.script, "--port", "0", "--client-id", options.client_id,
                                   "--client-secret", options.client_secret,
                                   "--backchannel-logout-uri", options.backchannel_logout_uri,
                                   "--client-auth-method", options.client_auth_method,
                                   "--id-token-alg", options.id_token_alg,
                                   "--access-token-ttl", std::to_string(options.access_token_ttl)};
  for (const std::string& uri : options.redirect_uris) argv.insert(argv.end(), {"--redirect-uri", uri});
  for (const std::string& uri : options.post_logout_redirect_uris) {
    argv.insert(argv.end(), {"--post-logout-redirect-uri", uri});
  }
  process_ = std::make_unique<ChildProcess>(argv, std::map<std::string, std::string>{},
                                            ChildProcess::temp_log_path("websession-dev-provider"));
  const std::string marker = "dev-provider ready: issuer=";
  if (!process_->wait_for_log(marker, std::chrono::seconds(30))) {
    throw std::runtime_error("the development provider did not start:\n" + process_->log());
  }
  const std::string log = process_->log();
  const std::size_t start = log.find(marker) + marker.size();
  issuer_ = log.substr(start, log.find(' ', start) - start);
  port_ = static_cast<std::uint16_t>(std::stoi(issuer_.substr(issuer_.rfind(':') + 1)));
}

DevProvider::~DevProvider() = default;

std::string DevProvider::target_of(const std::string& url) const {
  if (url.rfind(issuer_, 0) == 0) return url.substr(issuer_.size());
  if (!url.empty() && url.front() == '/') return url;
  throw std::runtime_error("not a URL of the development provider: " + url);
}

HttpAnswer DevProvider::get(const std::string& target, const std::map<std::string, std::string>& headers) {
  httplib::Client client("127.0.0.1", port_);
  client.set_read_timeout(10, 0);
  httplib::Headers h(headers.begin(), headers.end());
  return to_answer(client.Get(target_of(target).c_str(), h), "GET " + target_of(target));
}

HttpAnswer DevProvider::post(const std::string& target, const std::string& body, const std::string& content_type,
                             const std::map<std::string, std::string>& headers) {
  httplib::Client client("127.0.0.1", port_);
  client.set_read_timeout(10, 0);
  httplib::Headers h(headers.begin(), headers.end());
  return to_answer(client.Post(target_of(target).c_str(), h, body, content_type.c_str()), "POST " + target_of(target));
}

boost::json::object DevProvider::events() { return json_object(get("/test/events"), "GET /test/events"); }

boost::json::object DevProvider::configure(const boost::json::object& config) {
  return json_object(post("/test/config", boost::json::serialize(config), "application/json"), "POST /test/config");
}

boost::json::object DevProvider::backchannel_logout(const boost::json::object& request) {
  return json_object(post("/test/backchannel-logout", boost::json::serialize(request), "application/json"),
                     "POST /test/backchannel-logout");
}

std::optional<std::string> DevProvider::sign_in(const std::string& authorization_url, const std::string& login,
                                                std::string* why) {
  std::map<std::string, std::string> jar;
  std::string url = authorization_url;
  for (int hop = 0; hop < 12; ++hop) {
    for (const std::string& redirect : options_.redirect_uris) {
      if (url.rfind(redirect + "?", 0) == 0) return url.substr(redirect.size() + 1);
    }
    HttpAnswer a = get(url, {{"Cookie", cookie_header(jar)}});
    keep_cookies(a, jar);
    if (a.status == 200 && target_of(url).rfind("/interaction/", 0) == 0) {
      // The login page, or a consent page: submit it as a person would.
      const bool consent = a.body.find("name=\"prompt\" value=\"consent\"") != std::string::npos;
      const std::string form = consent ? "prompt=consent" : "prompt=login&login=" + login + "&password=any";
      a = post(url, form, "application/x-www-form-urlencoded", {{"Cookie", cookie_header(jar)}});
      keep_cookies(a, jar);
    }
    if (a.status != 302 && a.status != 303) {
      if (why != nullptr) *why = "HTTP " + std::to_string(a.status) + " at " + target_of(url) + ": " + a.body.substr(0, 300);
      return std::nullopt;
    }
    url = a.header("location");
  }
  if (why != nullptr) *why = "too many redirects";
  return std::nullopt;
}

}  // namespace websession::testing
