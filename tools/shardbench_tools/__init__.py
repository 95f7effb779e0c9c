"""Python tools around the shardbench binary: A/B comparison and regression gate, nightly runs,
plots. Standard library only, except matplotlib for plots."""
