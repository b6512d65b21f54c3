"""Exit codes of the command line (``python -m qa``), shared by the CLI and the batch runner: 0 ok, 1 failed, 2 bad usage."""

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
