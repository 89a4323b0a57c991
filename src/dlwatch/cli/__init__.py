"""The command line: parse, call the core, render. The only place that imports Typer and Rich.

main (the entry point) hands the forms quick answers without the CLI framework there, and the rest
to app, which builds only the command that runs, from commands/ (one module per command group).

May use: every layer below it."""
