"""Cross-cutting code: settings, database, app factory, errors, logging and the CLI."""
