#include "bench/cli.h"

int main(int argc, char** argv) { return sb::cli_main(argc, argv); }
