// The shared config and credentials files (~/.aws/config, ~/.aws/credentials): parse_shared_file()
// for both kinds of file on any text.
//
// Invariants: profile names are non-empty, trimmed and free of ']' and line breaks; keys are
// non-empty, trimmed, lower-case and free of '='; values are trimmed and free of line breaks; the
// profiles written back as a file of the same kind parse to the same profiles.
#include <string>

#include "fuzz_support.h"
#include "websession/aws/config.h"

namespace {

using websession::aws::Profiles;
using websession::aws::SharedFileKind;

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

bool trimmed(std::string_view s) { return s.empty() || (!is_space(s.front()) && !is_space(s.back())); }

void check_profiles(const Profiles& profiles) {
  for (const auto& [name, properties] : profiles) {
    FUZZ_CHECK(!name.empty() && trimmed(name));
    FUZZ_CHECK(name.find_first_of("]\n") == std::string::npos);
    for (const auto& [key, value] : properties) {
      FUZZ_CHECK(!key.empty() && trimmed(key));
      FUZZ_CHECK(key.find_first_of("=\n") == std::string::npos);
      for (char c : key) FUZZ_CHECK(!(c >= 'A' && c <= 'Z'));
      FUZZ_CHECK(trimmed(value) && value.find('\n') == std::string::npos);
    }
  }
}

std::string write_file(const Profiles& profiles, SharedFileKind kind) {
  std::string out;
  for (const auto& [name, properties] : profiles) {
    out.append(kind == SharedFileKind::config ? "[profile " : "[").append(name).append("]\n");
    for (const auto& [key, value] : properties) out.append(key).append(" = ").append(value).append("\n");
  }
  return out;
}

void check_kind(std::string_view text, SharedFileKind kind) {
  const Profiles profiles = websession::aws::parse_shared_file(text, kind);
  check_profiles(profiles);
  FUZZ_CHECK(websession::aws::parse_shared_file(write_file(profiles, kind), kind) == profiles);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = websession::fuzz::as_text(data, size);
  check_kind(text, SharedFileKind::config);
  check_kind(text, SharedFileKind::credentials);
  return 0;
}
