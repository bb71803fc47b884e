"""The linter: the rule registry, the rule families, running them, and reports."""
