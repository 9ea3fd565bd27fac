"""axapp: use cases, the HTTP shell and the `ax` command line (the composition root)."""
