"""`dlwatch serve` (the page at /, its event stream and its writes, the JSON views, /metrics,
polling as it runs) and `dlwatch listen` (push reports from clients on other machines). The only
place for HTTP-server code: serve.py wires the routes, views.py reads, stream.py follows the event
log for every open stream, writes.py acts, page.py serves the files in web/, receiver.py holds the
server and the push inbox.

May use: cycle and everything below it. Imported only by the commands that start a server."""
