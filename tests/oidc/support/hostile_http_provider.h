// An HTTP front for HostileProvider: a provider on a free loopback port (cpp-httplib, in the test's
// process) whose discovery document, JWKS, token, UserInfo and revocation endpoints answer whatever
// the test asks, so that a relying party can be fed hostile tokens over real sockets.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include <boost/json/object.hpp>

#include "oidc/support/hostile_provider.h"

namespace httplib {
class Server;
}

namespace websession::testing {

/// What an endpoint answers.
struct ProviderAnswer {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  /// Waits this long before answering (a slow provider).
  std::chrono::milliseconds delay{0};
};

/// A request the front received, as the handlers see it.
struct ProviderRequest {
  std::string path;
  /// The form fields of a POST body (or the query of a GET), decoded.
  std::map<std::string, std::string> form;
  std::string authorization;  ///< the Authorization header, empty when absent
};

class HostileHttpProvider {
 public:
  using Handler = std::function<ProviderAnswer(const ProviderRequest&)>;

  /// Starts on a free port of 127.0.0.1: issuer http://127.0.0.1:PORT, an RSA key ("rsa-1") and an
  /// EC P-256 key ("ec-1") in the JWKS. The default handlers issue valid tokens for `client_id`.
  explicit HostileHttpProvider(std::string client_id = "hostile-client");
  ~HostileHttpProvider();
  HostileHttpProvider(const HostileHttpProvider&) = delete;
  HostileHttpProvider& operator=(const HostileHttpProvider&) = delete;

  [[nodiscard]] const std::string& issuer() const { return issuer_; }
  [[nodiscard]] const std::string& client_id() const { return client_id_; }
  /// The keys and token minting.
  HostileProvider& minter() { return minter_; }

  /// The discovery document served (every endpoint on this front); change it with set_discovery().
  [[nodiscard]] boost::json::object default_discovery() const;
  void set_discovery(boost::json::object document);

  /// Replaces the handler of the token endpoint (default: valid_token_answer() for the nonce of the
  /// last sign-in begun with remember_nonce(), or a refresh answer), UserInfo (default: {"sub":
  /// "alice-sub", "name": ...}) or revocation (default: 200).
  void on_token(Handler handler);
  void on_userinfo(Handler handler);
  void on_revocation(Handler handler);
  /// The nonce the default token handler puts in ID tokens.
  void remember_nonce(std::string nonce);

  /// A valid ID token for the client: HostileProvider::id_token_claims() with `nonce`, merged with
  /// `overrides` (a null value removes the claim), signed RS256 with key 0.
  [[nodiscard]] std::string id_token(std::string_view nonce, const boost::json::object& overrides = {}) const;
  /// A token endpoint answer: access_token "at-<n>", refresh_token "rt-<n>" (n counting up, so each
  /// answer rotates them), token_type Bearer, expires_in, and id_token when not empty.
  [[nodiscard]] ProviderAnswer token_answer(const std::string& id_token, int expires_in = 300);

  /// How many requests reached `path` ("/token", "/jwks", "/.well-known/openid-configuration", ...).
  [[nodiscard]] int count(const std::string& path) const;
  /// Requests to `path` with the given form field value (for example grant_type=refresh_token).
  [[nodiscard]] int count(const std::string& path, const std::string& field, const std::string& value) const;
  /// The last request to `path`.
  [[nodiscard]] ProviderRequest last(const std::string& path) const;

 private:
  void serve(const std::string& path, const Handler* handler, ProviderRequest request, void* response);
  ProviderAnswer default_token(const ProviderRequest& request);

  std::string client_id_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  std::string issuer_;
  HostileProvider minter_;
  mutable std::mutex mu_;
  boost::json::object discovery_;
  Handler token_;
  Handler userinfo_;
  Handler revocation_;
  std::string nonce_;
  int issued_ = 0;
  std::vector<ProviderRequest> requests_;
};

}  // namespace websession::testing
