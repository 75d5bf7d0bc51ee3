// Uses the installed headers and libraries: the memory store through a Session, the DynamoDB
// store's option checking, and the OpenID Connect part's PKCE (no I/O).
#include <websession/websession.h>

#include <cstdio>
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
  std::puts("websession consumer ok");
  return 0;
}
