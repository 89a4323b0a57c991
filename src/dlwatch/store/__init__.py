"""SQLite: the connection and its short write transactions (db), schema migrations, attempts,
the event log and the outbox rows written with it, disk readings, the JSON read straight from
SQL, the release tables, and the client sessions kept between processes.

May use: settings, core. Never a client adapter or anything above."""
