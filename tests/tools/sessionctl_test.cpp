// sessionctl: argument parsing and counting without a server, every command against dynalite, and the
// program itself (its exit codes and output) as an operator runs it.
#include "tools/sessionctl.h"

#include <sstream>

#include <gtest/gtest.h>

#include "dynamo_store/layout.h"
#include "support/child_process.h"
#include "support/dynalite.h"
#include "websession/dynamo_session_store.h"
#include "websession/session.h"
#include "websession/session_id.h"

namespace websession::tools {
namespace {

using namespace std::chrono_literals;
namespace ddb = websession::dynamodb;

TEST(SessionctlArguments, ParseEachCommand) {
  auto c = parse_command_line({"list-user", "--table", "sessions", "--user", "alice"});
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->name, "list-user");
  EXPECT_EQ(c->table, "sessions");
  EXPECT_EQ(c->user, "alice");
  auto create = parse_command_line({"create-table", "--table", "t1", "--pitr", "--tag", "team=web", "--tag", "env=prod"});
  ASSERT_TRUE(create);
  EXPECT_TRUE(create->point_in_time_recovery);
  ASSERT_EQ(create->tags.size(), 2u);
  EXPECT_EQ(create->tags[1].second, "prod");
}

TEST(SessionctlArguments, RefuseWhatDoesNotFit) {
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {},
           {"drop-table", "--table", "t"},
           {"stats"},
           {"list-user", "--table", "t"},
           {"stats", "--table", "t", "--user", "u"},
           {"check", "--table", "t", "--pitr"},
           {"create-table", "--table"},
           {"create-table", "--table", "t", "--tag", "=x"},
           {"stats", "--table", "t", "--verbose"}}) {
    auto c = parse_command_line(args);
    EXPECT_FALSE(c) << "accepted: " << ::testing::PrintToString(args);
    if (!c) {
      EXPECT_EQ(c.code(), ErrorCode::invalid_argument);
    }
  }
}

TEST(SessionctlStats, CountsEachKindOfItem) {
  TableStats s;
  const std::int64_t now = 1'000'000;
  auto n = [](std::int64_t v) { return ddb::AttributeValue::number(v); };
  auto str = [](std::string v) { return ddb::AttributeValue::string(std::move(v)); };
  count_item({{"id", str("a")}, {"expires", n(now + 5)}, {"data", ddb::AttributeValue::map({})}}, now, s);
  count_item({{"id", str("b")}, {"expires", n(now)}, {"data", ddb::AttributeValue::map({})}}, now, s);
  count_item({{"id", str("c")}, {"expires", n(now + 5)}, {"revoked", ddb::AttributeValue::boolean(true)}}, now, s);
  count_item({{"id", str("owner#x")}, {"s:a", ddb::AttributeValue::map({})}}, now, s);
  count_item({{"id", str("owner#y")}, {"revoked_at", n(1)}}, now, s);
  count_item({{"id", str("other")}}, now, s);
  EXPECT_EQ(s.live_sessions, 1);
  EXPECT_EQ(s.expired_sessions, 1);
  EXPECT_EQ(s.revoked, 1);
  EXPECT_EQ(s.users, 1);
  EXPECT_EQ(s.other_items, 1);
  EXPECT_GT(s.bytes, 20);
}

class SessionctlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    WEBSESSION_REQUIRE_DYNALITE();
    client_ = testing::make_test_client(testing::dynalite_endpoint());
    table_ = testing::unique_table_name("ctl");
  }
  Status command(const std::vector<std::string>& args, std::string* out = nullptr) {
    auto c = parse_command_line(args);
    if (!c) return std::move(c).error();
    std::ostringstream text;
    Status st = run(*c, client_, text);
    if (out != nullptr) *out = text.str();
    return st;
  }
  std::string sign_in(DynamoSessionStore& store, const std::string& user) {
    Session s(store, SessionOptions{});
    s.sign_in(SignIn{user, "", "Browser/" + user, false});
    s.set("user", Value(user.c_str()));
    EXPECT_TRUE(s.save());
    return s.id();
  }
  // Runs the installed-style program with the test's AWS variables.
  std::pair<int, std::string> program(const std::vector<std::string>& args) {
    std::vector<std::string> argv{WEBSESSION_SESSIONCTL};
    argv.insert(argv.end(), args.begin(), args.end());
    testing::ChildProcess p(argv, {{"AWS_ENDPOINT_URL_DYNAMODB", testing::dynalite_endpoint()}},
                            testing::ChildProcess::temp_log_path("sessionctl"));
    const std::optional<int> rc = p.wait_exit(60s);
    return {rc.value_or(-1), p.log()};
  }

  std::shared_ptr<ddb::Client> client_;
  std::string table_;
};

TEST_F(SessionctlTest, CreateTableMakesWhatTheStoreExpects) {
  std::string out;
  ASSERT_TRUE(command({"create-table", "--table", table_, "--tag", "team=web"}, &out));
  EXPECT_NE(out.find("is ready"), std::string::npos);
  auto d = client_->describe_table({table_});
  ASSERT_TRUE(d);
  EXPECT_EQ(d->table.billing_mode, "PAY_PER_REQUEST");
  DynamoSessionStoreOptions o;
  o.table_name = table_;
  o.client = client_;
  o.create_table = false;
  o.logger = [](std::string_view) {};
  DynamoSessionStore store(o);
  EXPECT_TRUE(store.init()) << "the store accepts the table";
  // Point-in-time recovery is refused by dynalite: the command says so and fails.
  auto pitr = command({"create-table", "--table", table_, "--pitr"});
  ASSERT_FALSE(pitr);
  EXPECT_NE(pitr.error().message.find("point-in-time recovery"), std::string::npos);
}

TEST_F(SessionctlTest, CheckReportsAWrongSchemaAndMissingTtl) {
  ddb::CreateTableRequest wrong;
  wrong.table_name = table_;
  wrong.attribute_definitions = {{"pk", "S"}};
  wrong.key_schema = {{"pk", "HASH"}};
  ASSERT_TRUE(client_->create_table(wrong));
  std::string out;
  auto st = command({"check", "--table", table_}, &out);
  ASSERT_FALSE(st);
  EXPECT_NE(out.find("hash key 'id' of type S"), std::string::npos) << out;
  EXPECT_NE(out.find("TTL is"), std::string::npos) << out;
  EXPECT_EQ(command({"check", "--table", testing::unique_table_name("absent")}).code(), ErrorCode::not_found);
}

TEST_F(SessionctlTest, ListAndRevokeAUsersSessionsWithoutShowingIds) {
  ASSERT_TRUE(command({"create-table", "--table", table_}));
  DynamoSessionStoreOptions o;
  o.table_name = table_;
  o.client = client_;
  DynamoSessionStore store(o);
  const std::string a = sign_in(store, "alice");
  const std::string b = sign_in(store, "alice");
  const std::string bob = sign_in(store, "bob");
  std::string out;
  ASSERT_TRUE(command({"list-user", "--table", table_, "--user", "alice"}, &out));
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 2) << out;
  EXPECT_NE(out.find("user_agent=\"Browser/alice\""), std::string::npos) << out;
  for (const std::string& id : {a, b}) {
    EXPECT_EQ(out.find(id), std::string::npos) << "never the session ID";
    EXPECT_EQ(out.find(session_key(id)), std::string::npos);
  }
  ASSERT_TRUE(command({"stats", "--table", table_}, &out));
  EXPECT_NE(out.find("live_sessions 3\n"), std::string::npos) << out;
  EXPECT_NE(out.find("users 2\n"), std::string::npos) << out;
  ASSERT_TRUE(command({"revoke-user", "--table", table_, "--user", "alice"}, &out));
  EXPECT_EQ(out, "revoked 2\n");
  EXPECT_FALSE(store.get(a)->has_value());
  EXPECT_TRUE(store.get(bob)->has_value());
  ASSERT_TRUE(command({"list-user", "--table", table_, "--user", "alice"}, &out));
  EXPECT_EQ(out, "");
  ASSERT_TRUE(command({"stats", "--table", table_}, &out));
  EXPECT_NE(out.find("live_sessions 1\n"), std::string::npos) << out;
  EXPECT_NE(out.find("revoked 2\n"), std::string::npos) << out;
}

TEST_F(SessionctlTest, TheProgramExitsWithAReasonOnFailure) {
  auto [ok_rc, ok_out] = program({"create-table", "--table", table_});
  EXPECT_EQ(ok_rc, 0) << ok_out;
  auto [rc, out] = program({"revoke-user", "--table", table_, "--user", "nobody"});
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("revoked 0"), std::string::npos) << out;
  auto [bad_rc, bad_out] = program({"stats", "--table", testing::unique_table_name("absent")});
  EXPECT_EQ(bad_rc, 1) << bad_out;
  EXPECT_NE(bad_out.find("sessionctl: "), std::string::npos) << bad_out;
  auto [usage_rc, usage_out] = program({"frobnicate"});
  EXPECT_EQ(usage_rc, 2);
  EXPECT_NE(usage_out.find("usage: sessionctl"), std::string::npos);
}

}  // namespace
}  // namespace websession::tools
