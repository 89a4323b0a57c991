"""The home and what the user set: where config.toml and dlwatch.db live, config.toml read
(settings.config, with its [seeding] goals in settings.seeding) and written (settings.configfile),
and secrets in the OS keyring.

May use: core."""
