#include "oidc/support/hostile_http_provider.h"

#include <stdexcept>

#include <boost/json/serialize.hpp>
#include <httplib.h>

namespace websession::testing {
namespace {

std::map<std::string, std::string> form_of(const httplib::Request& req) {
  std::map<std::string, std::string> out;
  for (const auto& [name, value] : req.params) out[name] = value;
  if (req.method == "POST" && !req.body.empty()) {
    httplib::Params params;
    httplib::detail::parse_query_text(req.body, params);
    for (const auto& [name, value] : params) out[name] = value;
  }
  return out;
}

}  // namespace

HostileHttpProvider::HostileHttpProvider(std::string client_id)
    : client_id_(std::move(client_id)), server_(std::make_unique<httplib::Server>()) {
  // Short keep-alive: stopping the server waits for its idle connections to time out.
  server_->set_keep_alive_timeout(1);
  const int port = server_->bind_to_any_port("127.0.0.1");
  if (port <= 0) throw std::runtime_error("the hostile provider cannot listen on 127.0.0.1");
  issuer_ = "http://127.0.0.1:" + std::to_string(port);
  minter_ = HostileProvider(issuer_);
  minter_.add_key(SigningKey::rsa("rsa-1"));
  minter_.add_key(SigningKey::ec_p256("ec-1"));
  discovery_ = default_discovery();
  token_ = [this](const ProviderRequest& r) { return default_token(r); };
  userinfo_ = [](const ProviderRequest&) {
    return ProviderAnswer{200, R"({"sub":"alice-sub","name":"Alice Example","email":"alice@example.com"})"};
  };
  revocation_ = [](const ProviderRequest&) { return ProviderAnswer{200, ""}; };
  auto route = [this](const std::string& path, const Handler* handler) {
    return [this, path, handler](const httplib::Request& req, httplib::Response& res) {
      ProviderRequest request{path, form_of(req), req.get_header_value("Authorization")};
      serve(path, handler, std::move(request), &res);
    };
  };
  server_->Get("/.well-known/openid-configuration", route("/.well-known/openid-configuration", nullptr));
  server_->Get("/jwks", route("/jwks", nullptr));
  server_->Post("/token", route("/token", &token_));
  server_->Get("/userinfo", route("/userinfo", &userinfo_));
  server_->Post("/revoke", route("/revoke", &revocation_));
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  while (!server_->is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

HostileHttpProvider::~HostileHttpProvider() {
  server_->stop();
  thread_.join();
}

void HostileHttpProvider::serve(const std::string& path, const Handler* handler, ProviderRequest request,
                                void* response) {
  auto& res = *static_cast<httplib::Response*>(response);
  ProviderAnswer answer;
  {
    std::lock_guard lock(mu_);
    requests_.push_back(request);
    if (path == "/jwks") answer.body = minter_.jwks_json();
    if (path == "/.well-known/openid-configuration") answer.body = boost::json::serialize(discovery_);
  }
  if (handler != nullptr) {
    Handler copy;
    {
      std::lock_guard lock(mu_);
      copy = *handler;
    }
    answer = copy(request);
  }
  if (answer.delay.count() > 0) std::this_thread::sleep_for(answer.delay);
  res.status = answer.status;
  res.set_content(answer.body, answer.content_type.c_str());
}

boost::json::object HostileHttpProvider::default_discovery() const {
  return boost::json::object{
      {"issuer", issuer_},
      {"authorization_endpoint", issuer_ + "/authorize"},
      {"token_endpoint", issuer_ + "/token"},
      {"jwks_uri", issuer_ + "/jwks"},
      {"userinfo_endpoint", issuer_ + "/userinfo"},
      {"revocation_endpoint", issuer_ + "/revoke"},
      {"end_session_endpoint", issuer_ + "/session/end"},
      {"response_types_supported", boost::json::array{"code"}},
      {"subject_types_supported", boost::json::array{"public"}},
      {"id_token_signing_alg_values_supported", boost::json::array{"RS256", "ES256"}},
      {"code_challenge_methods_supported", boost::json::array{"S256"}},
      {"token_endpoint_auth_methods_supported", boost::json::array{"client_secret_basic", "client_secret_post"}},
      {"authorization_response_iss_parameter_supported", true},
      {"backchannel_logout_supported", true},
      {"backchannel_logout_session_supported", true}};
}

void HostileHttpProvider::set_discovery(boost::json::object document) {
  std::lock_guard lock(mu_);
  discovery_ = std::move(document);
}

void HostileHttpProvider::on_token(Handler handler) {
  std::lock_guard lock(mu_);
  token_ = std::move(handler);
}

void HostileHttpProvider::on_userinfo(Handler handler) {
  std::lock_guard lock(mu_);
  userinfo_ = std::move(handler);
}

void HostileHttpProvider::on_revocation(Handler handler) {
  std::lock_guard lock(mu_);
  revocation_ = std::move(handler);
}

void HostileHttpProvider::remember_nonce(std::string nonce) {
  std::lock_guard lock(mu_);
  nonce_ = std::move(nonce);
}

std::string HostileHttpProvider::id_token(std::string_view nonce, const boost::json::object& overrides) const {
  boost::json::object claims = minter_.id_token_claims(client_id_, nonce, std::chrono::system_clock::now());
  for (const auto& [name, value] : overrides) {
    if (value.is_null()) {
      claims.erase(name);
    } else {
      claims[name] = value;
    }
  }
  return HostileProvider::mint(boost::json::object{{"alg", "RS256"}, {"typ", "JWT"}}, claims, minter_.key(0));
}

ProviderAnswer HostileHttpProvider::token_answer(const std::string& id_token, int expires_in) {
  int n = 0;
  {
    std::lock_guard lock(mu_);
    n = ++issued_;
  }
  boost::json::object body{{"access_token", "at-" + std::to_string(n)},
                           {"refresh_token", "rt-" + std::to_string(n)},
                           {"token_type", "Bearer"},
                           {"expires_in", expires_in}};
  if (!id_token.empty()) body["id_token"] = id_token;
  return ProviderAnswer{200, boost::json::serialize(body)};
}

ProviderAnswer HostileHttpProvider::default_token(const ProviderRequest& request) {
  const auto grant = request.form.find("grant_type");
  if (grant != request.form.end() && grant->second == "refresh_token") return token_answer("");
  std::string nonce;
  {
    std::lock_guard lock(mu_);
    nonce = nonce_;
  }
  return token_answer(id_token(nonce));
}

int HostileHttpProvider::count(const std::string& path) const {
  std::lock_guard lock(mu_);
  int n = 0;
  for (const ProviderRequest& r : requests_) n += r.path == path ? 1 : 0;
  return n;
}

int HostileHttpProvider::count(const std::string& path, const std::string& field, const std::string& value) const {
  std::lock_guard lock(mu_);
  int n = 0;
  for (const ProviderRequest& r : requests_) {
    const auto it = r.form.find(field);
    n += r.path == path && it != r.form.end() && it->second == value ? 1 : 0;
  }
  return n;
}

ProviderRequest HostileHttpProvider::last(const std::string& path) const {
  std::lock_guard lock(mu_);
  for (auto it = requests_.rbegin(); it != requests_.rend(); ++it) {
    if (it->path == path) return *it;
  }
  return {};
}

}  // namespace websession::testing
