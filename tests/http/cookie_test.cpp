#include "websession/http/cookie.h"

#include <stdexcept>
#include <string>

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "core/base64url.h"

namespace {
using namespace websession::http;
const std::string kSecret(32, 'k');
const std::string kOther(40, 'o');

TEST(ParseCookieHeader, SplitsTrimsAndUnquotes) {
  auto pairs = parse_cookie_header(R"(a=1;b = 2 ;  c="3"; noequals; =empty; d=; e=x=y)");
  ASSERT_EQ(pairs.size(), 5u);
  EXPECT_EQ(pairs[0].name, "a");
  EXPECT_EQ(pairs[0].value, "1");
  EXPECT_EQ(pairs[1].name, "b");
  EXPECT_EQ(pairs[1].value, "2");
  EXPECT_EQ(pairs[2].value, "3");
  EXPECT_EQ(pairs[3].name, "d");
  EXPECT_EQ(pairs[3].value, "");
  EXPECT_EQ(pairs[4].value, "x=y");
  EXPECT_TRUE(parse_cookie_header("").empty());
  EXPECT_TRUE(parse_cookie_header(";;; ;").empty());
}

TEST(ParseCookieHeader, KeepsDuplicatesInOrder) {
  auto v = cookie_values("sessionId=first; other=x; sessionId=second", "sessionId");
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0], "first");
  EXPECT_EQ(v[1], "second");
  EXPECT_TRUE(cookie_values("sessionid=x", "sessionId").empty()) << "names are case-sensitive";
}

TEST(CookieSigner, SignsAndVerifies) {
  CookieSigner signer({kSecret});
  const std::string s = signer.sign("sessionId", "abc");
  EXPECT_EQ(s.rfind("abc.", 0), 0u);
  EXPECT_EQ(s.size(), 4u + 43u);
  EXPECT_EQ(signer.verify("sessionId", s), std::optional<std::string_view>("abc"));
}

TEST(CookieSigner, MacIsHmacSha256OfNameEqualsValue) {
  // Checked against OpenSSL's one-shot HMAC for keys shorter than, equal to and longer than
  // SHA-256's block (a longer key is hashed first).
  for (std::size_t key_size : {32u, 64u, 131u}) {
    std::string key(key_size, '\0');
    for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<char>(i * 7 + 1);
    const std::string input = "sessionId=abc";
    unsigned char mac[32];
    unsigned int len = 0;
    ASSERT_NE(HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
                   reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &len),
              nullptr);
    const std::string expected =
        "abc." + websession::detail::base64url_encode(std::string_view(reinterpret_cast<const char*>(mac), len));
    EXPECT_EQ(CookieSigner({key}).sign("sessionId", "abc"), expected) << "key of " << key_size << " bytes";
  }
}

TEST(CookieSigner, RefusesTamperingAndOtherNames) {
  CookieSigner signer({kSecret});
  std::string s = signer.sign("sessionId", "abc");
  EXPECT_FALSE(signer.verify("other", s));
  std::string t = s;
  t[0] = 'x';
  EXPECT_FALSE(signer.verify("sessionId", t));
  t = s;
  t.back() = t.back() == 'A' ? 'B' : 'A';
  EXPECT_FALSE(signer.verify("sessionId", t));
  EXPECT_FALSE(signer.verify("sessionId", "abc"));
  EXPECT_FALSE(signer.verify("sessionId", "abc."));
  EXPECT_FALSE(signer.verify("sessionId", s + "x"));
  EXPECT_FALSE(signer.verify("sessionId", std::string(CookieSigner::kMaxSignedValueBytes, 'a') + s));
}

TEST(CookieSigner, FirstSecretSignsAllVerify) {
  CookieSigner old_signer({kOther});
  CookieSigner rotated({kSecret, kOther});
  const std::string by_old = old_signer.sign("sessionId", "id");
  EXPECT_TRUE(rotated.verify("sessionId", by_old));
  EXPECT_EQ(rotated.sign("sessionId", "id"), CookieSigner({kSecret}).sign("sessionId", "id"));
  EXPECT_FALSE(CookieSigner({kSecret}).verify("sessionId", by_old));
}

TEST(CookieSigner, RejectsShortOrMissingSecrets) {
  EXPECT_THROW(CookieSigner({}), std::invalid_argument);
  EXPECT_THROW(CookieSigner({std::string(31, 'x')}), std::invalid_argument);
  try {
    CookieSigner({kSecret, "short"});
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("secrets[1]"), std::string::npos);
  }
}

TEST(SetCookieHeader, HasTheAttributes) {
  CookieAttributes a;
  EXPECT_EQ(set_cookie_header("sessionId", "v.s", a, std::chrono::seconds(1200)),
            "sessionId=v.s; Path=/; Max-Age=1200; HttpOnly; SameSite=Lax");
  a.secure = true;
  a.domain = "example.com";
  a.same_site = SameSite::strict;
  a.http_only = false;
  EXPECT_EQ(set_cookie_header("n", "v", a, std::chrono::seconds(5)),
            "n=v; Path=/; Domain=example.com; Max-Age=5; Secure; SameSite=Strict");
  EXPECT_EQ(clear_cookie_header("sessionId", CookieAttributes{}),
            "sessionId=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax");
  EXPECT_THROW((void)set_cookie_header("bad name", "v", CookieAttributes{}, std::chrono::seconds(1)),
               std::invalid_argument);
  EXPECT_THROW((void)set_cookie_header("n", "v;x", CookieAttributes{}, std::chrono::seconds(1)),
               std::invalid_argument);
}

// Found by fuzz/cookie_header_fuzz: the builders wrote the attributes unchecked, so a Domain or a
// Path holding CR, LF or NUL went into the header as it was.
TEST(SetCookieHeader, RefusesAttributesThatWouldBreakTheHeader) {
  CookieAttributes a;
  a.domain = std::string("d\0e", 3);
  EXPECT_THROW((void)clear_cookie_header("c", a), std::invalid_argument);
  EXPECT_THROW((void)set_cookie_header("c", "v", a, std::chrono::seconds(1)), std::invalid_argument);
  a = {};
  a.path = "/\r\nSet-Cookie: evil=1";
  EXPECT_THROW((void)clear_cookie_header("c", a), std::invalid_argument);
  EXPECT_THROW((void)set_cookie_header("c", "v", a, std::chrono::seconds(1)), std::invalid_argument);
}

TEST(CookieAttributes, Validation) {
  CookieAttributes a;
  EXPECT_NO_THROW(validate(a));
  a.path = "/x;y";
  EXPECT_THROW(validate(a), std::invalid_argument);
  a = {};
  a.same_site = SameSite::none;
  EXPECT_THROW(validate(a), std::invalid_argument);
  a.secure = true;
  EXPECT_NO_THROW(validate(a));
}

}  // namespace
