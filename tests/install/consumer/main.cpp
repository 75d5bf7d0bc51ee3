// Uses the installed headers and libraries: the memory store through a Session, and the DynamoDB
// store's option checking (no I/O).
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
  std::puts("websession consumer ok");
  return 0;
}
