#include "core/sha256.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <span>
#include <stdexcept>
#include <string>

namespace websession::detail {
namespace {

[[noreturn]] void crypto_failure(const char* what) {
  throw std::runtime_error(std::string("OpenSSL failure: ") + what);
}

struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const noexcept { EVP_MD_CTX_free(c); }
};
using MdCtx = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;

struct MdFree {
  void operator()(EVP_MD* md) const noexcept { EVP_MD_free(md); }
};

MdCtx new_ctx() {
  MdCtx c(EVP_MD_CTX_new());
  if (!c) crypto_failure("EVP_MD_CTX_new");
  return c;
}

// SHA-256, fetched from the default provider once.
const EVP_MD* sha256_md() {
  static const std::unique_ptr<EVP_MD, MdFree> md(EVP_MD_fetch(nullptr, "SHA256", nullptr));
  if (!md) crypto_failure("EVP_MD_fetch(SHA256)");
  return md.get();
}

// One digest context per thread, reused: EVP_DigestInit_ex and EVP_MD_CTX_copy_ex reinitialise it.
EVP_MD_CTX* thread_ctx() {
  thread_local const MdCtx ctx = new_ctx();
  return ctx.get();
}

constexpr std::size_t kBlock = 64;
using Pad = std::array<unsigned char, kBlock>;

void update(EVP_MD_CTX* ctx, const void* data, std::size_t size) {
  if (size != 0 && EVP_DigestUpdate(ctx, data, size) != 1) crypto_failure("SHA-256 update");
}

void finish(EVP_MD_CTX* ctx, Sha256Digest& out) {
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(ctx, out.data(), &len) != 1 || len != out.size()) crypto_failure("SHA-256 final");
}

// The key as one block: hashed first when longer than a block (RFC 2104).
Pad key_block(std::string_view key) {
  Pad block{};
  if (key.size() > kBlock) {
    Sha256Digest hashed = sha256(key);
    std::copy(hashed.begin(), hashed.end(), block.begin());
    OPENSSL_cleanse(hashed.data(), hashed.size());
  } else {
    std::transform(key.begin(), key.end(), block.begin(), [](char c) { return static_cast<unsigned char>(c); });
  }
  return block;
}

void start(EVP_MD_CTX* ctx, const Pad& key, unsigned char pad_byte) {
  Pad pad;
  for (std::size_t i = 0; i < kBlock; ++i) pad[i] = static_cast<unsigned char>(key[i] ^ pad_byte);
  if (EVP_DigestInit_ex(ctx, sha256_md(), nullptr) != 1) crypto_failure("SHA-256 init");
  update(ctx, pad.data(), pad.size());
  OPENSSL_cleanse(pad.data(), pad.size());  // key material
}

}  // namespace

Sha256Digest sha256(std::string_view data) {
  EVP_MD_CTX* ctx = thread_ctx();
  if (EVP_DigestInit_ex(ctx, sha256_md(), nullptr) != 1) crypto_failure("SHA-256 init");
  update(ctx, data.data(), data.size());
  Sha256Digest out{};
  finish(ctx, out);
  return out;
}

Sha256Digest hmac_sha256(std::string_view key, std::string_view data) {
  Pad block = key_block(key);
  EVP_MD_CTX* ctx = thread_ctx();
  Sha256Digest inner{};
  start(ctx, block, 0x36);
  update(ctx, data.data(), data.size());
  finish(ctx, inner);
  Sha256Digest out{};
  start(ctx, block, 0x5c);
  update(ctx, inner.data(), inner.size());
  finish(ctx, out);
  OPENSSL_cleanse(block.data(), block.size());
  OPENSSL_cleanse(inner.data(), inner.size());
  return out;
}

struct KeyedHmacSha256::States {
  MdCtx inner = new_ctx();
  MdCtx outer = new_ctx();
};

KeyedHmacSha256::KeyedHmacSha256(std::string_view key) : states_(std::make_unique<States>()) {
  Pad block = key_block(key);
  start(states_->inner.get(), block, 0x36);
  start(states_->outer.get(), block, 0x5c);
  OPENSSL_cleanse(block.data(), block.size());
}

KeyedHmacSha256::~KeyedHmacSha256() = default;

Sha256Digest KeyedHmacSha256::operator()(std::initializer_list<std::string_view> parts) const {
  EVP_MD_CTX* ctx = thread_ctx();
  Sha256Digest inner{};
  if (EVP_MD_CTX_copy_ex(ctx, states_->inner.get()) != 1) crypto_failure("SHA-256 copy");
  for (std::string_view part : parts) update(ctx, part.data(), part.size());
  finish(ctx, inner);
  Sha256Digest out{};
  if (EVP_MD_CTX_copy_ex(ctx, states_->outer.get()) != 1) crypto_failure("SHA-256 copy");
  update(ctx, inner.data(), inner.size());
  finish(ctx, out);
  return out;
}

}  // namespace websession::detail
