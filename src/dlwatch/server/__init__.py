"""`dlwatch serve` (the merged view over HTTP, /metrics, polling as it runs) and `dlwatch listen`
(push reports from clients on other machines). The only place for HTTP-server code.

May use: cycle and everything below it. Imported only by the commands that start a server."""
