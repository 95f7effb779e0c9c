"""Entry point for the tools/ wrappers: python3 tools/run_tool.py <tool> [args]."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

if __name__ == "__main__":
    name = sys.argv[1]
    module = __import__(f"shardbench_tools.{name}", fromlist=["main"])
    sys.exit(module.main(sys.argv[2:]))  # every tool's main takes its argument list
