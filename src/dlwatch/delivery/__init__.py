"""Running what an event set off: hook commands and notifications, claimed from the
outbox (store.outbox) by whichever dlwatch process gets to them.

May use: store, settings, core."""
