#include "websession/aws/sigv4.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace websession::aws {
namespace {

constexpr std::string_view kAccessKey = "AKIDEXAMPLE";
constexpr std::string_view kSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
constexpr std::string_view kAmzDate = "20150830T123600Z";

std::string read(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// A request of the suite's .req format: request line, header lines, blank line, body.
struct SuiteRequest {
  std::string method, path, query, body;
  std::vector<std::pair<std::string, std::string>> headers;
  std::vector<HeaderView> views() const {
    std::vector<HeaderView> v;
    for (const auto& [n, val] : headers) v.push_back({n, val});
    return v;
  }
};

SuiteRequest parse_req(const std::string& text) {
  SuiteRequest r;
  std::size_t header_end = text.find("\n\n");
  std::string head = text.substr(0, header_end);
  if (header_end != std::string::npos) r.body = text.substr(header_end + 2);
  std::istringstream lines(head);
  std::string line;
  std::getline(lines, line);
  std::size_t sp1 = line.find(' ');
  std::size_t sp2 = line.rfind(' ');
  r.method = line.substr(0, sp1);
  std::string target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::size_t q = target.find('?');
  r.path = target.substr(0, q);
  if (q != std::string::npos) r.query = target.substr(q + 1);
  while (std::getline(lines, line)) {
    std::size_t colon = line.find(':');
    r.headers.emplace_back(line.substr(0, colon), line.substr(colon + 1));
  }
  return r;
}

std::vector<std::string> suite_cases() {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(WEBSESSION_SIGV4_SUITE_DIR)) {
    if (entry.is_directory()) names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

class SigV4Suite : public ::testing::TestWithParam<std::string> {
 protected:
  std::filesystem::path file(std::string_view ext) const {
    return std::filesystem::path(WEBSESSION_SIGV4_SUITE_DIR) / GetParam() / (GetParam() + std::string(ext));
  }
};

TEST_P(SigV4Suite, CanonicalRequestStringToSignAndSignatureMatch) {
  SuiteRequest r = parse_req(read(file(".req")));
  auto headers = r.views();
  SignableRequest req{r.method, r.path, r.query, headers, r.body};

  auto canonical = canonical_request(req, sha256_hex(r.body));
  ASSERT_TRUE(canonical) << canonical.error().describe();
  const CanonicalRequest& creq = *canonical;
  EXPECT_EQ(creq.text, read(file(".creq")));

  std::string scope = credential_scope(kAmzDate.substr(0, 8), "us-east-1", "service");
  std::string sts = string_to_sign(kAmzDate, scope, creq.text);
  EXPECT_EQ(sts, read(file(".sts")));

  std::string sig = signature(derive_signing_key(kSecret, "20150830", "us-east-1", "service"), sts);
  EXPECT_EQ(authorization_header(kAccessKey, scope, creq.signed_headers, sig), read(file(".authz")));
}

TEST_P(SigV4Suite, SignerProducesThePublishedAuthorization) {
  SuiteRequest r = parse_req(read(file(".req")));
  auto headers = r.views();
  SignableRequest req{r.method, r.path, r.query, headers, r.body};
  Signer signer("us-east-1", "service");
  Credentials c{std::string(kAccessKey), std::string(kSecret), "", std::nullopt};
  EXPECT_EQ(*signer.authorization(c, req, kAmzDate), read(file(".authz")));
  // The cached key gives the same answer.
  EXPECT_EQ(*signer.authorization(c, req, kAmzDate), read(file(".authz")));
}

INSTANTIATE_TEST_SUITE_P(AwsSuite, SigV4Suite, ::testing::ValuesIn(suite_cases()),
                         [](const ::testing::TestParamInfo<std::string>& param_info) {
                           std::string name = param_info.param;
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

TEST(SigV4, SuiteIsPresent) { EXPECT_GE(suite_cases().size(), 15u); }

TEST(SigV4, Sha256AndHmacKnownAnswers) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  // RFC 4231 test case 2.
  EXPECT_EQ(hex(hmac_sha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(SigV4, FormatsAmzDateInUtc) {
  using namespace std::chrono;
  sys_seconds t = sys_days{2015y / August / 30} + 12h + 36min;
  EXPECT_EQ(format_amz_date(t), "20150830T123600Z");
  EXPECT_EQ(format_amz_date(t + 999ms), "20150830T123600Z");
}

TEST(SigV4, UriEncodeKeepsUnreservedOnly) {
  std::string out;
  uri_encode("a b/c~d*é", out);
  EXPECT_EQ(out, "a%20b%2Fc~d%2A%C3%A9");
  out.clear();
  uri_encode("/a b/", out, true);
  EXPECT_EQ(out, "/a%20b/");
}

TEST(SigV4, SignerUsesTheInjectedClockAndSignsTheSessionToken) {
  using namespace std::chrono;
  Signer signer("us-east-1", "dynamodb", [] { return sys_days{2015y / August / 30} + 12h + 36min; });
  EXPECT_EQ(format_amz_date(signer.now()), "20150830T123600Z");
  std::vector<HeaderView> headers{{"host", "dynamodb.us-east-1.amazonaws.com"},
                                  {"x-amz-date", "20150830T123600Z"},
                                  {"x-amz-security-token", "TOKEN"}};
  SignableRequest req{"POST", "/", "", headers, "{}"};
  Credentials c{"AKID", "SECRET", "TOKEN", std::nullopt};
  std::string authz = *signer.authorization(c, req, "20150830T123600Z");
  EXPECT_NE(authz.find("Credential=AKID/20150830/us-east-1/dynamodb/aws4_request"), std::string::npos);
  EXPECT_NE(authz.find("SignedHeaders=host;x-amz-date;x-amz-security-token"), std::string::npos);
  EXPECT_EQ(authz.find("SECRET"), std::string::npos);
  // A different day derives a different key and signature.
  std::string next_day = *signer.authorization(c, req, "20150831T123600Z");
  EXPECT_NE(next_day, authz);
}

TEST(SigV4, NormalizesPathsLikeTheSdks) {
  std::vector<HeaderView> headers{{"host", "h"}};
  auto uri = [&](std::string_view path) {
    CanonicalRequest c = *canonical_request({"GET", path, "", headers, ""}, sha256_hex(""));
    return c.text.substr(4, c.text.find('\n', 4) - 4);
  };
  EXPECT_EQ(uri("/example/.."), "/");
  EXPECT_EQ(uri("/example1/example2/../.."), "/");
  EXPECT_EQ(uri("//"), "/");
  EXPECT_EQ(uri("/./example"), "/example");
  EXPECT_EQ(uri("//example//"), "/example/");
}

// A line break in a header value would end the header early on the wire; collapsing it into a
// space (as an earlier version did) signed something other than what was sent.
TEST(SigV4, RefusesLineBreaksInHeadersInsteadOfCollapsingThem) {
  for (std::string_view bad : {std::string_view("TOKEN\r\nX-Injected: 1"), std::string_view("a\nb"), std::string_view("a\0b", 3)}) {
    std::vector<HeaderView> headers{{"host", "h"}, {"x-amz-security-token", bad}};
    auto c = canonical_request({"POST", "/", "", headers, "{}"}, sha256_hex("{}"));
    ASSERT_FALSE(c);
    EXPECT_EQ(c.code(), ErrorCode::invalid_argument);
    Signer signer("us-east-1", "dynamodb");
    auto authz = signer.authorization(Credentials{"AKID", "SECRET", std::string(bad), std::nullopt},
                                      {"POST", "/", "", headers, "{}"}, "20150830T123600Z");
    EXPECT_FALSE(authz);
  }
  std::vector<HeaderView> name{{"host", "h"}, {"x-bad\r\nname", "v"}};
  EXPECT_FALSE(canonical_request({"GET", "/", "", name, ""}, sha256_hex("")));
  // Tabs and runs of spaces still collapse, as the suite requires.
  std::vector<HeaderView> spaced{{"host", "h"}, {"x-a", "  a \t  b  "}};
  auto ok = canonical_request({"GET", "/", "", spaced, ""}, sha256_hex(""));
  ASSERT_TRUE(ok);
  EXPECT_NE(ok->text.find("x-a:a b\n"), std::string::npos);
}

}  // namespace
}  // namespace websession::aws
