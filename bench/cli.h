// The `shardbench` command line (docs/cli.md). Exit codes: 0 every point verified, 1 a verification
// mismatch, 2 bad config or usage (one line, no results file), 3 a runtime failure (CUDA/NCCL).
#pragma once

namespace sb {
int cli_main(int argc, char** argv);
}
