// sessionctl: see sessionctl.h and the README ("sessionctl").
#include <iostream>
#include <string>
#include <vector>

#include "tools/sessionctl.h"

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::cout << websession::tools::usage();
    return args.empty() ? 2 : 0;
  }
  auto command = websession::tools::parse_command_line(args);
  if (!command) {
    std::cerr << "sessionctl: " << command.error().message << "\n" << websession::tools::usage();
    return 2;
  }
  // Region, endpoint and credentials from the environment and profiles, as the AWS SDKs read them.
  auto client = websession::dynamodb::Client::create();
  if (!client) {
    std::cerr << "sessionctl: " << client.error().message << '\n';
    return 1;
  }
  if (auto st = websession::tools::run(*command, *client, std::cout); !st) {
    std::cout.flush();
    std::cerr << "sessionctl: " << st.error().message << '\n';
    return 1;
  }
  return 0;
}
