"""What nginx's `scgi_pass` with `auth_basic` does in front of rTorrent (the ruTorrent setup): a
`POST /RPC2` with the right basic-auth credentials is passed to rTorrent's SCGI port and its answer
returned; anything else gets 401 or 404. Its own SCGI framing, so it does not test dlwatch's."""

from __future__ import annotations

import base64
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class ScgiBridge:
    def __init__(self, scgi_port: int, username: str, password: str, path: str = "/RPC2") -> None:
        expected = "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                if self.headers.get("Authorization") != expected:
                    self.send_response(401)
                    self.send_header("WWW-Authenticate", 'Basic realm="rtorrent"')
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if self.path != path:
                    self.send_error(404)
                    return
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                headers = b"CONTENT_LENGTH\0%d\0SCGI\x001\0" % len(body)
                with socket.create_connection(("127.0.0.1", scgi_port), timeout=10) as sock:
                    sock.sendall(b"%d:%s,%s" % (len(headers), headers, body))
                    answer = b""
                    while chunk := sock.recv(65536):
                        answer += chunk
                xml = answer.split(b"\r\n\r\n", 1)[1]
                self.send_response(200)
                self.send_header("Content-Type", "text/xml")
                self.send_header("Content-Length", str(len(xml)))
                self.end_headers()
                self.wfile.write(xml)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> ScgiBridge:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
