"""The `bosun` command line: parsing, one module per group of commands, the demo and headless runs."""
