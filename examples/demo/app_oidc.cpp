// The demo's OpenID Connect routes: thin HTTP wrappers around websession::oidc::RelyingParty.
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "app.h"
#include "websession/http/middleware.h"

namespace demo {
namespace json = boost::json;
namespace oidc = websession::oidc;
using websession::ErrorCode;
using websession::Session;
using websession::Task;

namespace {

AppResponse json_answer(unsigned status, const json::object& body) {
  return {status, "application/json", json::serialize(body), {{"Cache-Control", "no-store"}}};
}

AppResponse error_answer(unsigned status, std::string_view code, std::string_view message) {
  return {status, "application/json", websession::http::error_body(code, message), {{"Cache-Control", "no-store"}}};
}

// An error of the relying party: its service type (or code) and message, never a token.
AppResponse error_answer(unsigned status, const websession::Error& e) {
  const std::string_view code = e.service_type.empty() ? websession::to_string(e.code) : std::string_view(e.service_type);
  return error_answer(status, code, e.message);
}

AppResponse redirect(std::string location) {
  return {303, "text/plain; charset=utf-8", "", {{"Location", std::move(location)}, {"Cache-Control", "no-store"}}};
}

AppResponse not_configured() {
  return error_answer(404, "not_found", "OpenID Connect sign-in is not configured (OIDC_ISSUER)");
}

// The status of a failed sign-in callback: always 4xx, except a provider or store that did not answer.
unsigned callback_status(const websession::Error& e) {
  if (e.code == ErrorCode::unavailable || e.code == ErrorCode::cancelled) return 503;
  if (e.code == ErrorCode::permission_denied) return 403;
  return 400;
}

}  // namespace

Task<AppResponse> App::sign_in(const AppRequest& request, Session& session) {
  if (!options_.oidc) co_return not_configured();
  auto return_to = oidc::form_parameter(request.query, "return_to");
  const std::string target = return_to && *return_to ? **return_to : std::string("/");
  auto url = co_await options_.oidc->co_begin_sign_in(session, target);
  if (!url) co_return error_answer(url.code() == ErrorCode::unavailable ? 503 : 502, url.error());
  co_return redirect(std::move(*url));
}

Task<AppResponse> App::auth_callback(const AppRequest& request, Session& session) {
  if (!options_.oidc) co_return not_configured();
  auto done = co_await options_.oidc->co_complete_sign_in(session, request.query, request.user_agent);
  if (!done) co_return error_answer(callback_status(done.error()), done.error());
  co_return redirect(std::move(done->return_to));
}

Task<AppResponse> App::sign_out(Session& session) {
  if (!options_.oidc) {
    if (auto st = co_await session.co_destroy(); !st) co_return error_answer(503, st.error());
    co_return redirect("/");
  }
  auto out = co_await options_.oidc->co_sign_out(session);
  if (!out) co_return error_answer(503, out.error());
  co_return redirect(std::move(out->redirect_to));
}

Task<AppResponse> App::me(Session& session) {
  if (!options_.oidc) co_return not_configured();
  auto info = co_await options_.oidc->co_userinfo(session);
  if (!info) {
    const websession::Error& e = info.error();
    if (oidc::needs_sign_in(e)) co_return error_answer(401, "unauthorized", e.message);
    co_return error_answer(e.code == ErrorCode::unavailable ? 503 : 502, e);
  }
  if (info->refreshed) metrics_.count_rotation();
  json::object body;
  body["sub"] = session.get_string("sub").value_or("");
  body["userinfo"] = std::move(info->claims);
  body["refreshed"] = info->refreshed;
  co_return json_answer(200, body);
}

Task<AppResponse> App::backchannel_logout(const AppRequest& request) {
  // OpenID Connect Back-Channel Logout 1.0 section 2.8: 200 on success, 400 with an OAuth error body.
  if (!options_.oidc) co_return not_configured();
  const std::string_view type = request.content_type.substr(0, request.content_type.find(';'));
  if (type != "application/x-www-form-urlencoded") {
    co_return error_answer(415, "unsupported_media_type", "send application/x-www-form-urlencoded");
  }
  auto token = oidc::form_parameter(request.body, "logout_token");
  if (!token || !*token || (*token)->empty()) {
    co_return json_answer(400, {{"error", "invalid_request"}, {"error_description", "no logout_token"}});
  }
  auto ended = co_await options_.oidc->co_backchannel_logout(**token);
  if (!ended) {
    if (ended.code() == ErrorCode::unavailable) co_return error_answer(503, ended.error());
    co_return json_answer(400, {{"error", "invalid_request"}, {"error_description", ended.error().message}});
  }
  co_return json_answer(200, {{"sessions_ended", ended->sessions_ended}});
}

}  // namespace demo
