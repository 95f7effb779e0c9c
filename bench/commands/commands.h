// The subcommands (docs/cli.md): each adds its own flags to the command line and runs when parsed.
#pragma once
#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "bench/commands/options.h"

namespace sb {

CLI::App* add_run_command(CLI::App& app, cli_flags& f);
int cmd_run(const cli_flags& f, int process_rank);

CLI::App* add_bench_command(CLI::App& app, cli_flags& f);
int cmd_bench(const cli_flags& f, const std::vector<std::string>& extra, const char* argv0, int process_rank);

CLI::App* add_frontier_command(CLI::App& app, cli_flags& f);
int cmd_frontier(const cli_flags& f);

CLI::App* add_plan_command(CLI::App& app, cli_flags& f);
int cmd_plan(const cli_flags& f);

}  // namespace sb
