"""The download clients, one module per client (registered through the `dlwatch.clients`
entry-point group, as a third-party adapter would be), the interface they share (base), the
registry that loads them, and the bounded HTTP and SCGI reading under them.

May use: core. Free of SQLite and of the home: an adapter is handed everything it needs."""
