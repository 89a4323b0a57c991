"""Start real download-client daemons (Debian packages) on 127.0.0.1, in a temp dir, on free ports.

Each daemon runs as a child process of the caller, with its own config dir, and is stopped by its
pid, never by name. Credentials are real: qBittorrent needs its login even from localhost, NZBGet's
AuthorizedIP stays empty, Transmission requires RPC authentication.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

USERNAME = "dlw"
PASSWORD = "dlw-test-pass"

BINARIES = {
    "transmission": "transmission-daemon",
    "qbittorrent": "qbittorrent-nox",
    "nzbget": "nzbget",
}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def installed(kind: str) -> bool:
    return shutil.which(BINARIES[kind]) is not None


@dataclass
class Daemon:
    kind: str
    port: int
    root: Path
    log: Path
    process: subprocess.Popen
    username: str = USERNAME
    password: str = PASSWORD
    download_dir: Path = field(default_factory=Path)
    peer_port: int | None = None
    extra: dict[str, str] = field(default_factory=dict)
    args: list[str] = field(default_factory=list)
    ready_path: str = "/"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid

    def running(self) -> bool:
        return self.process.poll() is None

    def stop(self, timeout: float = 15.0) -> None:
        if self.process.poll() is not None:
            return
        os.kill(self.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.kill(self.pid, signal.SIGKILL)
            self.process.wait(5)

    def restart(self) -> None:
        """Start again with the same arguments, port and state dir (after stop())."""
        self.stop()
        self.process = _spawn(self.args, self.root / f"{self.kind}.stdout", self.root)
        _wait_http(self, self.url + self.ready_path)

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])


def _spawn(args: list[str], log: Path, cwd: Path) -> subprocess.Popen:
    with open(log, "ab") as out:
        return subprocess.Popen(
            args, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=cwd, start_new_session=True
        )


def _wait_http(daemon: Daemon, url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not daemon.running():
            raise RuntimeError(f"{daemon.kind} exited at start-up:\n{daemon.log_tail()}")
        try:
            httpx.get(url, timeout=1.0)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    daemon.stop()
    raise RuntimeError(f"{daemon.kind} did not answer on {url} within {timeout:g}s:\n{daemon.log_tail()}")


def start_transmission(root: Path) -> Daemon:
    root.mkdir(parents=True, exist_ok=True)
    config, downloads = root / "config", root / "downloads"
    config.mkdir(exist_ok=True)
    downloads.mkdir(exist_ok=True)
    port, peer_port = free_port(), free_port()
    log = root / "transmission.log"
    args = [
        BINARIES["transmission"],
        "--foreground",
        "--config-dir",
        str(config),
        "--port",
        str(port),
        "--rpc-bind-address",
        "127.0.0.1",
        "--allowed",
        "127.0.0.1",
        "--bind-address-ipv4",
        "127.0.0.1",
        "--bind-address-ipv6",
        "::1",
        "--auth",
        "--username",
        USERNAME,
        "--password",
        PASSWORD,
        "--peerport",
        str(peer_port),
        "--download-dir",
        str(downloads),
        "--no-portmap",
        "--no-dht",
        "--no-lpd",
        "--no-utp",
        "--logfile",
        str(log),
        "--log-info",
    ]
    process = _spawn(args, root / "transmission.stdout", root)
    daemon = Daemon(
        "transmission",
        port,
        root,
        log,
        process,
        download_dir=downloads,
        peer_port=peer_port,
        args=args,
        ready_path="/transmission/rpc",
    )
    _wait_http(daemon, daemon.url + daemon.ready_path)
    return daemon


def qbittorrent_password_hash(password: str, salt: bytes | None = None) -> str:
    """`WebUI\\Password_PBKDF2`: PBKDF2-HMAC-SHA512, 100000 iterations, 16-byte salt, 64-byte key."""
    salt = salt or os.urandom(16)
    key = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, 100_000, 64)
    return f"@ByteArray({base64.b64encode(salt).decode()}:{base64.b64encode(key).decode()})"


def start_qbittorrent(root: Path) -> Daemon:
    root.mkdir(parents=True, exist_ok=True)
    downloads = root / "downloads"
    downloads.mkdir(exist_ok=True)
    port, peer_port = free_port(), free_port()
    conf_dir = root / "profile" / "qBittorrent" / "config"
    conf_dir.mkdir(parents=True, exist_ok=True)
    (conf_dir / "qBittorrent.conf").write_text(
        "\n".join(
            [
                "[LegalNotice]",
                "Accepted=true",
                "",
                "[BitTorrent]",
                f"Session\\Port={peer_port}",
                "Session\\Interface=lo",
                "Session\\InterfaceName=lo",
                "Session\\InterfaceAddress=127.0.0.1",
                f"Session\\DefaultSavePath={downloads}",
                "Session\\DHTEnabled=false",
                "Session\\LSDEnabled=false",
                "Session\\PeXEnabled=false",
                "Session\\AnonymousModeEnabled=false",
                "",
                "[Preferences]",
                f"Downloads\\SavePath={downloads}",
                "Connection\\UPnP=false",
                "WebUI\\Address=127.0.0.1",
                f"WebUI\\Port={port}",
                "WebUI\\LocalHostAuth=true",
                f"WebUI\\Username={USERNAME}",
                f'WebUI\\Password_PBKDF2="{qbittorrent_password_hash(PASSWORD)}"',
                "WebUI\\CSRFProtection=true",
                "WebUI\\HostHeaderValidation=true",
                "",
            ]
        )
    )
    log = root / "profile" / "qBittorrent" / "data" / "logs" / "qbittorrent.log"
    args = [BINARIES["qbittorrent"], f"--profile={root / 'profile'}", f"--webui-port={port}"]
    process = _spawn(args, root / "qbittorrent.stdout", root)
    daemon = Daemon(
        "qbittorrent",
        port,
        root,
        log,
        process,
        download_dir=downloads,
        peer_port=peer_port,
        args=args,
        ready_path="/api/v2/app/version",
    )
    _wait_http(daemon, daemon.url + daemon.ready_path)
    return daemon


def _nzbget_template() -> str:
    example = Path("/usr/share/doc/nzbget/examples/nzbget.conf.gz")
    if example.exists():
        return gzip.decompress(example.read_bytes()).decode()
    return Path("/usr/share/nzbget/webui/nzbget.conf").read_text()


def start_nzbget(root: Path, *, news_port: int | None = None) -> Daemon:
    """NZBGet with Server1 pointing at a local news server (if given) and HealthCheck=delete."""
    root.mkdir(parents=True, exist_ok=True)
    port = free_port()
    overrides = {
        "MainDir": str(root),
        "DestDir": str(root / "dst"),
        "InterDir": str(root / "inter"),
        "LogFile": str(root / "nzbget.log"),
        "LockFile": str(root / "nzbget.lock"),
        "WebDir": "/usr/share/nzbget/webui",
        "ConfigTemplate": "/usr/share/nzbget/webui/nzbget.conf",
        "ControlIP": "127.0.0.1",
        "ControlPort": str(port),
        "ControlUsername": USERNAME,
        "ControlPassword": PASSWORD,
        "RestrictedUsername": "",
        "AddUsername": "",
        "AuthorizedIP": "",
        "FormAuth": "no",
        "UpdateCheck": "none",
        "DaemonUsername": os.environ.get("USER", "root"),
        "OutputMode": "loggable",
        "WriteLog": "append",
        "CrashDump": "no",
        "HealthCheck": "delete",
        "ParCheck": "auto",
        "Unpack": "no",
        "DirectUnpack": "no",
        "Server1.Active": "yes" if news_port else "no",
        "Server1.Host": "127.0.0.1",
        "Server1.Port": str(news_port or 119),
        "Server1.Username": "",
        "Server1.Password": "",
        "Server1.Connections": "2",
        "Server1.Retention": "0",
        "ArticleTimeout": "5",
        "UrlTimeout": "5",
        "ArticleRetries": "1",
        "ArticleInterval": "1",
    }
    lines = []
    for line in _nzbget_template().splitlines():
        key = line.split("=", 1)[0] if "=" in line and not line.startswith("#") else None
        if key in overrides:
            line = f"{key}={overrides.pop(key)}"
        lines.append(line)
    lines += [f"{k}={v}" for k, v in overrides.items()]
    conf = root / "nzbget.conf"
    conf.write_text("\n".join(lines) + "\n")
    args = [BINARIES["nzbget"], "-c", str(conf), "-s", "-o", "OutputMode=loggable"]
    process = _spawn(args, root / "nzbget.stdout", root)
    daemon = Daemon(
        "nzbget", port, root, root / "nzbget.log", process, download_dir=root / "dst", args=args, ready_path="/jsonrpc"
    )
    _wait_http(daemon, daemon.url + daemon.ready_path)
    return daemon


STARTERS = {"transmission": start_transmission, "qbittorrent": start_qbittorrent, "nzbget": start_nzbget}
