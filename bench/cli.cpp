// The `shardbench` command line: its subcommands (bench/commands/), one line and exit 2 for bad
// usage, and the exit codes of docs/cli.md.
#include "bench/cli.h"

#include <fmt/format.h>

#include <optional>
#include <string_view>

#include "bench/commands/commands.h"
#include "harness/backends/mpi_session.h"
#include "harness/core/error.h"

namespace sb {

namespace {
// An empty value ("--tp ''", "--out=") would be dropped by CLI11 or read as nothing: refused, naming
// the flag, before any parse.
void refuse_empty_values(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a.empty())
      throw_config(i > 1 ? fmt::format("{}: empty value", argv[i - 1]) : std::string("an empty argument"));
    if (a.rfind("--", 0) == 0 && a.back() == '=') throw_config(fmt::format("{}: empty value", a.substr(0, a.size() - 1)));
  }
}
}  // namespace

int cli_main(int argc, char** argv) {
  CLI::App app{"shardbench: benchmark and verify ways of redistributing vocab-sharded target logits"};
  app.require_subcommand(1);
  cli_flags f;

  CLI::App* run = add_run_command(app, f);

  CLI::App* bench = add_bench_command(app, f);

  CLI::App* frontier = add_frontier_command(app, f);

  add_plan_command(app, f);  // the subcommand left when no other one was parsed

  try {
    refuse_empty_values(argc, argv);
    app.parse(argc, argv);
  } catch (const config_error& e) {
    fmt::print(stderr, "shardbench: error: {}\n", e.what());
    return kExitConfig;
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    fmt::print(stderr, "shardbench: error: {}\n", e.what());
    return kExitConfig;
  }
  try {
    std::optional<mpi_session> mpi;
    if (launched_under_mpi()) mpi.emplace(&argc, &argv);
    if (run->parsed()) return cmd_run(f, mpi ? mpi->rank() : 0);
    if (frontier->parsed()) return cmd_frontier(f);
    if (bench->parsed()) return cmd_bench(f, bench->remaining(), argv[0], mpi ? mpi->rank() : 0);
    return cmd_plan(f);
  } catch (const config_error& e) {
    fmt::print(stderr, "shardbench: error: {}\n", e.what());
    return kExitConfig;
  } catch (const std::bad_alloc&) {
    fmt::print(stderr, "shardbench: error: out of host memory in `{}`\n", app.get_subcommands().empty() ? "shardbench" : app.get_subcommands().front()->get_name());
    return kExitRuntime;
  } catch (const std::exception& e) {
    fmt::print(stderr, "shardbench: error: {}\n", e.what());
    return kExitRuntime;
  }
}

}  // namespace sb
