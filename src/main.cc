// vigil: a Prometheus-compatible monitoring server in one binary.
//   vigil [flags]                 run the server
//   vigil check config FILE...    validate configuration files
//   vigil check healthy|ready     ask a running server, as promtool
//   vigil check web-config FILE... validate --web.config.file files
//   vigil admin COMMAND ...       retention, delete-series, snapshot, compact on a server
//   vigil tsdb COMMAND ...        list, analyze, dump, import on a stopped data directory
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "config/check_config.h"
#include "promql/engine.h"
#include "rules/alert_template.h"
#include "src/admin_cli.h"
#include "src/flags.h"
#include "src/server_check_cli.h"
#include "src/server_flags.h"
#include "src/server_main.h"
#include "src/tsdb_cli.h"
#include "src/version.h"
#include "web/web_config.h"

namespace {

void PrintVersion() {
  std::printf(
      "vigil, version %s (branch: %s, revision: %s)\n"
      "  build user:       vigil\n"
      "  build date:       %s\n"
      "  compiler:         g++ %s\n"
      "  platform:         linux/amd64\n",
      vigil::build::kVersion, vigil::build::kBranch, vigil::build::kRevision,
      vigil::build::kBuildDate, __VERSION__);
}

int RunCheck(const std::vector<std::string>& args) {
  if (!args.empty() && (args[0] == "healthy" || args[0] == "ready")) {
    return vigil::RunServerStatusCheck(args[0], {args.begin() + 1, args.end()}, std::cout,
                                       std::cerr);
  }
  if (args.size() < 2 || (args[0] != "config" && args[0] != "rules" && args[0] != "web-config")) {
    std::fprintf(stderr,
                 "usage: vigil check config|rules|web-config FILE...\n"
                 "       vigil check healthy|ready [--url=http://localhost:9090]\n");
    return 1;
  }
  if (args[0] == "web-config") {
    return vigil::web::RunCheckWebConfig({args.begin() + 1, args.end()}, std::cerr);
  }
  std::vector<std::string> files(args.begin() + 1, args.end());
  // Rule expressions are parsed by the PromQL parser, as promtool does.
  const auto check_expr = [](const std::string& expr) {
    return vigil::promql::FormatQuery(expr).status();
  };
  // Alert templates are parsed as the server parses them when it loads rules.
  const auto check_template = [](std::string_view text, std::string_view alert) {
    return vigil::rules::CheckAlertTemplate(text, alert);
  };
  if (args[0] == "rules")
    return vigil::config::RunCheckRules(files, std::cout, std::cerr, check_expr, check_template);
  return vigil::config::RunCheckConfig(files, std::cout, std::cerr, check_expr, check_template);
}

int RunServerCommand(const std::vector<std::string>& args) {
  vigil::FlagSet flags("vigil");
  vigil::DefineServerFlags(flags);
  vigil::Status st = flags.Parse(args);
  if (!st.ok()) {
    std::fprintf(stderr, "vigil: error: %s, try --help\n", st.message().c_str());
    return 1;
  }
  if (flags.help()) {
    std::fputs(flags.Usage().c_str(), stdout);
    std::fputs(
        "\nCommands (each takes --help):\n"
        "  check config FILE...        validate configuration files, like promtool\n"
        "  check rules FILE...         validate rule files, like promtool\n"
        "  check healthy|ready [--url=URL]  ask a running server, like promtool\n"
        "  check web-config FILE...    validate web configuration files, like promtool\n"
        "  admin COMMAND ...           retention, delete-series, snapshot, compact on a server\n"
        "  tsdb COMMAND ...            list, analyze, dump, create-blocks-from on a data dir\n",
        stdout);
    return 0;
  }
  if (flags.version()) {
    PrintVersion();
    return 0;
  }
  if (!flags.positional().empty()) {
    std::fprintf(stderr, "vigil: error: unexpected %s, try --help\n",
                 flags.positional()[0].c_str());
    return 1;
  }
  auto settings = vigil::SettingsFromFlags(flags);
  if (!settings.ok()) {
    std::fprintf(stderr, "vigil: error: %s\n", settings.status().message().c_str());
    return 1;
  }
  return vigil::RunServer(*settings);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (!args.empty() && args[0] == "check") {
    return RunCheck({args.begin() + 1, args.end()});
  }
  if (!args.empty() && args[0] == "admin") {
    return vigil::RunAdminCommand({args.begin() + 1, args.end()}, std::cout, std::cerr);
  }
  if (!args.empty() && args[0] == "tsdb") {
    return vigil::RunTsdbCommand({args.begin() + 1, args.end()}, std::cout, std::cerr);
  }
  return RunServerCommand(args);
}
