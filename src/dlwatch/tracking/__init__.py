"""The work on downloads: the clients as configured and opened, sending and adopting,
asking a client and turning its answer into changes (pure, in changes), the rules that find a
dead download, a torrent measured against its seeding goal, pause/resume/remove, pruning, and
a client's own report of an end (push).

May use: store, adapters, settings, core."""
