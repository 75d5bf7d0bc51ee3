#include "websession/aws/config.h"

#include <charconv>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <utility>
#include <vector>

namespace websession::aws {
namespace {

std::string_view trim(std::string_view s) {
  auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

std::string to_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// Strips an inline comment: '#' or ';' preceded by whitespace, as the SDKs do for values.
std::string_view strip_inline_comment(std::string_view value) {
  for (std::size_t i = 1; i < value.size(); ++i) {
    if ((value[i] == '#' || value[i] == ';') && (value[i - 1] == ' ' || value[i - 1] == '\t')) {
      return trim(value.substr(0, i));
    }
  }
  return value;
}

std::optional<std::string> non_empty(const GetEnv& getenv, std::string_view name) {
  auto v = getenv(name);
  if (v && !v->empty()) return v;
  return std::nullopt;
}

std::optional<std::string> expand_home(const GetEnv& getenv, std::string path) {
  if (path == "~" || path.starts_with("~/")) {
    auto home = non_empty(getenv, "HOME");
    if (!home) return std::nullopt;
    return *home + path.substr(1);
  }
  return path;
}

// Endpoint host names: letters, digits and RFC 3986's other unreserved characters ("-._~"); an
// IPv6 literal (inside brackets): hex digits, at least one ':', '.' and the '%' of a zone ID.
// Anything else, and whitespace and control characters above all, would end up in the Host header.
bool valid_host(std::string_view host, bool ip_literal) {
  if (ip_literal && host.find(':') == std::string_view::npos) return false;
  for (const char c : host) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) continue;
    const std::string_view extra = ip_literal ? ":.%" : "-._~";
    if (extra.find(c) == std::string_view::npos) return false;
  }
  return true;
}

// The path goes into the request line: no whitespace, control characters or DEL.
bool valid_path(std::string_view path) {
  for (const char c : path) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7F) return false;
  }
  return true;
}

}  // namespace

GetEnv process_environment() {
  return [](std::string_view name) -> std::optional<std::string> {
    // std::getenv needs a NUL-terminated name; the views we pass are literals or strings, but be
    // safe and copy.
    const char* v = std::getenv(std::string(name).c_str());  // NOLINT(concurrency-mt-unsafe)
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

GetEnv or_process_environment(GetEnv getenv) {
  return getenv ? std::move(getenv) : process_environment();
}

namespace {

// One `[header]` section of an INI file, as the SDKs read it.
struct Section {
  std::string header;
  ProfileProperties properties;
  // Indented lines under a key with an empty value ("sts =" then "  endpoint_url = ..."), as
  // "parent.key".
  ProfileProperties sub_properties;
};

std::vector<Section> parse_sections(std::string_view text) {
  std::vector<Section> sections;
  std::string parent;  // the last top-level key of the current section
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    std::string_view raw = text.substr(pos, eol - pos);
    pos = eol + 1;
    const bool indented = !raw.empty() && (raw.front() == ' ' || raw.front() == '\t');
    std::string_view line = trim(raw);
    if (line.empty() || line.front() == '#' || line.front() == ';') continue;
    if (line.front() == '[' && !indented) {
      std::size_t close = line.find(']');
      if (close == std::string_view::npos) continue;
      sections.push_back({std::string(trim(line.substr(1, close - 1))), {}, {}});
      parent.clear();
      continue;
    }
    std::size_t eq = line.find('=');
    if (sections.empty() || eq == std::string_view::npos) continue;
    std::string key = to_lower(trim(line.substr(0, eq)));
    std::string_view value = strip_inline_comment(trim(line.substr(eq + 1)));
    if (key.empty()) continue;
    if (indented) {
      if (!parent.empty()) sections.back().sub_properties[parent + "." + key] = std::string(value);
      continue;
    }
    parent = key;
    sections.back().properties[key] = std::string(value);
  }
  return sections;
}

// "profile name" -> "name"; nullopt when `header` does not start with `prefix` and a blank.
std::optional<std::string_view> after_prefix(std::string_view header, std::string_view prefix) {
  if (header.size() <= prefix.size() || !header.starts_with(prefix)) return std::nullopt;
  const char sep = header[prefix.size()];
  if (sep != ' ' && sep != '\t') return std::nullopt;
  std::string_view name = trim(header.substr(prefix.size() + 1));
  if (name.empty()) return std::nullopt;
  return name;
}

void merge_into(Profiles& into, std::string_view name, const ProfileProperties& properties) {
  auto& target = into[std::string(name)];
  for (const auto& [k, v] : properties) target[k] = v;
}

std::string read_text(const std::optional<std::string>& path, bool& found) {
  found = false;
  if (!path) return {};
  std::ifstream in(*path, std::ios::binary);
  if (!in) return {};
  found = true;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

Profiles parse_shared_file(std::string_view text, SharedFileKind kind) {
  if (kind == SharedFileKind::config) return parse_config_file(text).profiles;
  Profiles profiles;
  for (const Section& section : parse_sections(text)) {
    if (!section.header.empty()) merge_into(profiles, section.header, section.properties);
  }
  return profiles;
}

SharedConfig parse_config_file(std::string_view text) {
  SharedConfig config;
  for (const Section& section : parse_sections(text)) {
    if (section.header == "default") {
      merge_into(config.profiles, "default", section.properties);
    } else if (auto name = after_prefix(section.header, "profile")) {
      merge_into(config.profiles, *name, section.properties);
    } else if (auto session = after_prefix(section.header, "sso-session")) {
      merge_into(config.sso_sessions, *session, section.properties);
    } else if (auto services = after_prefix(section.header, "services")) {
      merge_into(config.services, *services, section.properties);
      merge_into(config.services, *services, section.sub_properties);
    }
  }
  return config;
}

SharedConfig load_config_file(const std::optional<std::string>& path) {
  bool found = false;
  std::string text = read_text(path, found);
  return found ? parse_config_file(text) : SharedConfig{};
}

bool valid_region(std::string_view region) noexcept {
  if (region.empty() || region.size() > 63 || region.front() == '-' || region.back() == '-') return false;
  for (char c : region) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return true;
}

std::optional<std::string> shared_credentials_path(const GetEnv& getenv) {
  if (auto p = non_empty(getenv, "AWS_SHARED_CREDENTIALS_FILE")) return expand_home(getenv, *p);
  auto home = non_empty(getenv, "HOME");
  if (!home) return std::nullopt;
  return *home + "/.aws/credentials";
}

std::optional<std::string> shared_config_path(const GetEnv& getenv) {
  if (auto p = non_empty(getenv, "AWS_CONFIG_FILE")) return expand_home(getenv, *p);
  auto home = non_empty(getenv, "HOME");
  if (!home) return std::nullopt;
  return *home + "/.aws/config";
}

std::string active_profile(const GetEnv& getenv) {
  if (auto p = non_empty(getenv, "AWS_PROFILE")) return *p;
  return "default";
}

Profiles load_shared_file(const std::optional<std::string>& path, SharedFileKind kind) {
  bool found = false;
  std::string text = read_text(path, found);
  return found ? parse_shared_file(text, kind) : Profiles{};
}

std::optional<std::string> resolve_region(const GetEnv& getenv, const std::optional<std::string>& profile) {
  if (auto r = non_empty(getenv, "AWS_REGION")) return r;
  if (auto r = non_empty(getenv, "AWS_DEFAULT_REGION")) return r;
  Profiles config = load_shared_file(shared_config_path(getenv), SharedFileKind::config);
  std::string name = profile ? *profile : active_profile(getenv);
  if (auto it = config.find(name); it != config.end()) {
    if (auto r = it->second.find("region"); r != it->second.end() && !r->second.empty()) return r->second;
  }
  return std::nullopt;
}

Result<Endpoint> parse_endpoint(std::string_view url) {
  Endpoint e;
  std::size_t sep = url.find("://");
  if (sep == std::string_view::npos) {
    return Error(ErrorCode::invalid_argument, "endpoint must be an http:// or https:// URL");
  }
  e.scheme = to_lower(url.substr(0, sep));
  if (e.scheme != "http" && e.scheme != "https") {
    return Error(ErrorCode::invalid_argument, "endpoint scheme must be http or https, not '" + e.scheme + "'");
  }
  std::string_view rest = url.substr(sep + 3);
  std::size_t slash = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? std::string_view("/") : rest.substr(slash);
  if (authority.find('@') != std::string_view::npos) {
    // User info in an endpoint would be sent in clear and signed; refuse it (and never echo it).
    return Error(ErrorCode::invalid_argument, "endpoint must not contain user information");
  }
  std::uint16_t default_port = e.scheme == "https" ? 443 : 80;
  std::string_view port_text;
  const bool ip_literal = !authority.empty() && authority.front() == '[';
  if (ip_literal) {
    std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return Error(ErrorCode::invalid_argument, "endpoint has a bad IPv6 host");
    e.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return Error(ErrorCode::invalid_argument, "endpoint has a bad port");
      port_text = after.substr(1);
    }
  } else {
    std::size_t colon = authority.rfind(':');
    e.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
  }
  if (e.host.empty()) return Error(ErrorCode::invalid_argument, "endpoint has no host");
  if (!valid_host(e.host, ip_literal)) {
    return Error(ErrorCode::invalid_argument, "endpoint host may hold only letters, digits and \"-._~\"");
  }
  e.host = to_lower(e.host);
  e.port = default_port;
  if (!port_text.empty()) {
    unsigned value = 0;
    auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
    if (ec != std::errc() || ptr != port_text.data() + port_text.size() || value == 0 || value > 65535) {
      return Error(ErrorCode::invalid_argument, "endpoint has a bad port");
    }
    e.port = static_cast<std::uint16_t>(value);
  }
  std::size_t qh = path.find_first_of("?#");
  e.path = std::string(path.substr(0, qh));
  if (e.path.empty()) e.path = "/";
  if (!valid_path(e.path)) {
    return Error(ErrorCode::invalid_argument, "endpoint path must not hold whitespace or control characters");
  }
  bool ipv6 = e.host.find(':') != std::string::npos;
  e.host_header = ipv6 ? "[" + e.host + "]" : e.host;
  if (e.port != default_port) e.host_header += ":" + std::to_string(e.port);
  e.url = e.scheme + "://" + e.host_header + e.path;
  return e;
}

std::string default_endpoint(std::string_view service, std::string_view region) {
  std::string out = "https://";
  out.append(service).append(".").append(region).append(".amazonaws.com");
  if (region.starts_with("cn-")) out.append(".cn");
  return out;
}

namespace {

bool is_true(const std::optional<std::string>& value) { return value && to_lower(trim(*value)) == "true"; }

std::optional<std::string> property(const ProfileProperties* properties, const std::string& key) {
  if (properties == nullptr) return std::nullopt;
  auto it = properties->find(key);
  if (it == properties->end() || it->second.empty()) return std::nullopt;
  return it->second;
}

}  // namespace

std::string resolve_service_endpoint(const GetEnv& getenv, const ServiceNames& service, std::string_view region,
                                     const ProfileProperties* profile, const SharedConfig& config) {
  if (is_true(non_empty(getenv, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")) ||
      is_true(property(profile, "ignore_configured_endpoint_urls"))) {
    return default_endpoint(service.host_prefix, region);
  }
  std::string specific = "AWS_ENDPOINT_URL_";
  specific.append(service.env_suffix);
  if (auto e = non_empty(getenv, specific)) return *e;
  if (auto name = property(profile, "services")) {
    auto section = config.services.find(*name);
    const ProfileProperties* services = section == config.services.end() ? nullptr : &section->second;
    if (auto e = property(services, std::string(service.config_key) + ".endpoint_url")) return *e;
  }
  if (auto e = non_empty(getenv, "AWS_ENDPOINT_URL")) return *e;
  if (auto e = property(profile, "endpoint_url")) return *e;
  return default_endpoint(service.host_prefix, region);
}

std::string resolve_endpoint(const GetEnv& getenv, std::string_view service_env, std::string_view service,
                             std::string_view region) {
  std::string specific = "AWS_ENDPOINT_URL_";
  specific.append(service_env);
  if (auto e = non_empty(getenv, specific)) return *e;
  if (auto e = non_empty(getenv, "AWS_ENDPOINT_URL")) return *e;
  return default_endpoint(service, region);
}

}  // namespace websession::aws
