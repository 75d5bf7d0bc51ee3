// Uses the installed headers and libraries: the memory store through a Session, the DynamoDB
// store's option checking, and the OpenID Connect part's PKCE and relying party (no I/O).
#include <websession/websession.h>

#include <cstdio>
#include <memory>
#include <stdexcept>

int main() {
  websession::MemorySessionStore store;
  websession::Session session(store, {});
  session.set("user", "alice");
  if (!session.save()) return 1;
  auto loaded = websession::Session::load(store, session.id(), {});
  if (!loaded || loaded->get_string("user") != "alice") return 1;
  try {
    websession::DynamoSessionStore bad(websession::DynamoSessionStoreOptions{});
    return 1;
  } catch (const std::invalid_argument&) {
  }
  // RFC 7636 Appendix B.
  if (websession::oidc::code_challenge_s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk") !=
      "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM") {
    return 1;
  }
  // The relying party checks its options without any I/O.
  websession::oidc::RelyingPartyOptions rp;
  rp.issuer = "https://login.example.com";
  rp.client_id = "app";
  rp.client_secret = "secret";
  rp.redirect_uri = "https://app.example.com/auth/callback";
  rp.store = std::make_shared<websession::MemorySessionStore>();
  websession::oidc::RelyingParty party(rp);
  if (party.options().client_secret != "") return 1;
  std::puts("websession consumer ok");
  return 0;
}
