"""A small NNTP server on 127.0.0.1 that serves yEnc-encoded articles of generated payloads.

Enough of RFC 3977 for NZBGet: greeting, ARTICLE/BODY/HEAD/STAT by message-id, GROUP, MODE READER,
DATE, QUIT. Articles can be left out (430) so a job really fails, and a delay per article keeps
progress observable.
"""

from __future__ import annotations

import binascii
import socketserver
import threading
import time
from dataclasses import dataclass, field
from html import escape
from pathlib import Path

LINE_LENGTH = 128
CRITICAL = {0x00, 0x0A, 0x0D, 0x3D}


def yenc_lines(data: bytes) -> list[bytes]:
    lines, line = [], bytearray()
    for i, byte in enumerate(data):
        c = (byte + 42) % 256
        at_edge = not line or len(line) >= LINE_LENGTH - 1 or i == len(data) - 1
        if c in CRITICAL or (at_edge and c in (0x09, 0x20)) or (not line and c == 0x2E):
            line += bytes((0x3D, (c + 64) % 256))
        else:
            line.append(c)
        if len(line) >= LINE_LENGTH:
            lines.append(bytes(line))
            line = bytearray()
    if line:
        lines.append(bytes(line))
    return lines


@dataclass
class Article:
    message_id: str
    body: bytes  # yEnc-encoded lines, CRLF-separated, not dot-stuffed
    size: int


@dataclass
class Posting:
    """One file split into articles, and the NZB that lists them."""

    name: str
    data: bytes
    articles: list[Article] = field(default_factory=list)

    def nzb(self, group: str = "alt.binaries.dlwatch") -> bytes:
        total = len(self.articles)
        segments = "\n".join(
            f'      <segment bytes="{a.size}" number="{n}">{escape(a.message_id)}</segment>'
            for n, a in enumerate(self.articles, 1)
        )
        subject = escape(f'{self.name} [1/1] - "{self.name}" yEnc (1/{total})')
        return (
            '<?xml version="1.0" encoding="utf-8"?>\n'
            '<!DOCTYPE nzb PUBLIC "-//newzBin//DTD NZB 1.1//EN" "http://www.newzbin.com/DTD/nzb/nzb-1.1.dtd">\n'
            '<nzb xmlns="http://www.newzbin.com/DTD/2003/nzb">\n'
            f'  <file poster="dlwatch@localhost" date="1700000000" subject="{subject}">\n'
            f"    <groups><group>{group}</group></groups>\n"
            f"    <segments>\n{segments}\n    </segments>\n"
            "  </file>\n</nzb>\n"
        ).encode()


def make_posting(name: str, data: bytes, part_size: int = 256 * 1024) -> Posting:
    posting = Posting(name, data)
    parts = [data[i : i + part_size] for i in range(0, len(data), part_size)] or [b""]
    for number, part in enumerate(parts, 1):
        begin = (number - 1) * part_size + 1
        header = (
            f"=ybegin part={number} total={len(parts)} line={LINE_LENGTH} size={len(data)} name={name}\r\n"
            f"=ypart begin={begin} end={begin + len(part) - 1}\r\n"
        ).encode()
        crc = binascii.crc32(part) & 0xFFFFFFFF
        trailer = f"=yend size={len(part)} part={number} pcrc32={crc:08x}\r\n".encode()
        body = header + b"\r\n".join(yenc_lines(part)) + b"\r\n" + trailer
        posting.articles.append(Article(f"{name}.{number}@dlwatch.test", body, len(body)))
    return posting


class NewsServer:
    def __init__(self, *, delay: float = 0.0) -> None:
        self.articles: dict[str, Article] = {}
        self.missing: set[str] = set()
        self.delay = delay
        self.requests = 0
        server = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                self.wfile.write(b"200 dlwatch test news server ready\r\n")
                for raw in self.rfile:
                    line = raw.decode("latin-1").strip()
                    if not line:
                        continue
                    reply = server.answer(line)
                    if reply is None:
                        self.wfile.write(b"205 bye\r\n")
                        return
                    self.wfile.write(reply)

        class Server(socketserver.ThreadingTCPServer):
            allow_reuse_address = True
            daemon_threads = True

        self._server = Server(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def add(self, posting: Posting, *, leave_out: set[int] = frozenset()) -> Posting:
        for number, article in enumerate(posting.articles, 1):
            self.articles[article.message_id] = article
            if number in leave_out:
                self.missing.add(article.message_id)
        return posting

    def answer(self, line: str) -> bytes | None:
        command, _, argument = line.partition(" ")
        command = command.upper()
        argument = argument.strip().strip("<>")  # message-ids travel in angle brackets; the NZB lists them bare
        if command == "QUIT":
            return None
        if command in ("MODE", "CAPABILITIES"):
            return b"200 posting not allowed\r\n" if command == "MODE" else b"101 list\r\nVERSION 2\r\nREADER\r\n.\r\n"
        if command == "GROUP":
            return f"211 {len(self.articles)} 1 {len(self.articles)} {argument}\r\n".encode()
        if command == "DATE":
            return time.strftime("111 %Y%m%d%H%M%S\r\n", time.gmtime()).encode()
        if command == "AUTHINFO":
            return b"281 ok\r\n"
        if command in ("ARTICLE", "BODY", "HEAD", "STAT"):
            self.requests += 1
            article = self.articles.get(argument)
            if article is None or argument in self.missing:
                return b"430 no such article\r\n"
            if self.delay:
                time.sleep(self.delay)
            code = {"ARTICLE": 220, "HEAD": 221, "BODY": 222, "STAT": 223}[command]
            status = f"{code} 0 <{argument}>\r\n".encode()
            if command == "STAT":
                return status
            head = f"Message-ID: <{argument}>\r\nSubject: dlwatch test\r\nFrom: dlwatch@localhost\r\n".encode()
            body = b"\r\n".join(b"." + part if part.startswith(b".") else part for part in article.body.split(b"\r\n"))
            if command == "HEAD":
                return status + head + b".\r\n"
            text = (head + b"\r\n" + body) if command == "ARTICLE" else body
            return status + text.rstrip(b"\r\n") + b"\r\n.\r\n"
        return b"500 unknown command\r\n"

    def start(self) -> NewsServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def write_nzb(posting: Posting, folder: Path) -> Path:
    path = folder / f"{posting.name}.nzb"
    path.write_bytes(posting.nzb())
    return path
