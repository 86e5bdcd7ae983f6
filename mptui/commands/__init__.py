"""Command-line commands: each module has HELP, a docstring, add_arguments() and run()."""
