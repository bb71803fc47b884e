"""One module per CLI command; each stays thin: parse options, call the pipeline, print, exit code."""
