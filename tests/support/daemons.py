"""Start real download-client daemons (Debian packages) on 127.0.0.1, in a temp dir, on free ports.

Each daemon runs as a child process of the caller, with its own config dir, and is stopped by its
pid, never by name. Credentials are real: qBittorrent needs its login even from localhost, NZBGet's
AuthorizedIP stays empty, Transmission requires RPC authentication.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
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
    "deluge": "deluged",
    "rtorrent": "rtorrent",
    "aria2": "aria2c",
}
# Programs a kind needs besides its daemon (Deluge is reached through its web UI).
ALSO_NEEDS = {"deluge": ("deluge-web",)}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def installed(kind: str) -> bool:
    return all(shutil.which(name) is not None for name in (BINARIES[kind], *ALSO_NEEDS.get(kind, ())))


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
    # Processes started with the daemon and stopped with it (Deluge's web UI), as (args, log) pairs.
    companions: list[tuple[list[str], subprocess.Popen]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid

    def running(self) -> bool:
        return self.process.poll() is None

    def stop(self, timeout: float = 15.0) -> None:
        for process in [p for _, p in self.companions] + [self.process]:
            _stop(process, timeout)

    def restart(self) -> None:
        """Start again with the same arguments, port and state dir (after stop())."""
        self.stop()
        self.process = _spawn(self.args, self.root / f"{self.kind}.stdout", self.root)
        self.companions = [
            (args, _spawn(args, self.root / f"{self.kind}-{i}.stdout", self.root))
            for i, (args, _) in enumerate(self.companions)
        ]
        _wait_ready(self)

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])


def _stop(process: subprocess.Popen, timeout: float) -> None:
    if process.poll() is not None:
        return
    os.kill(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(5)


def _spawn(args: list[str], log: Path, cwd: Path) -> subprocess.Popen:
    with open(log, "ab") as out:
        return subprocess.Popen(
            args, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=cwd, start_new_session=True
        )


def _wait_ready(daemon: Daemon) -> None:
    if daemon.ready_path:
        _wait_http(daemon, daemon.url + daemon.ready_path)
    else:
        _wait_tcp(daemon)


def _wait_tcp(daemon: Daemon) -> None:
    """For a daemon that speaks no HTTP on its port (rTorrent's SCGI): it accepts connections."""
    _wait_tcp_port(daemon.process, daemon.port, daemon.log)


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
    # No download queue: torrents left by earlier tests in this session must not hold a later
    # test's download in "queued" (Transmission's default lets 5 download at once).
    (config / "settings.json").write_text(json.dumps({"download-queue-enabled": False}))
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
                # No queue: seeds left by earlier tests must not keep a later test's seed waiting
                # (qBittorrent's default lets 3 upload and 5 be active at once).
                "Session\\QueueingSystemEnabled=false",
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
        "ScriptDir": str(root / "scripts"),
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
        # Always active: NZBGet 21 with no active server spins a core at 100 % for as long as it
        # runs (measured: 1.0 CPU-second per second), which slowed every other test. Without a news
        # server it points at a port nothing listens on, so a job there fails on its first article.
        "Server1.Active": "yes",
        "Server1.Host": "127.0.0.1",
        "Server1.Port": str(news_port or free_port()),
        "Server1.Username": "",
        "Server1.Password": "",
        "Server1.Connections": "2",
        "Server1.Retention": "0",
        "ArticleTimeout": "5",
        "UrlTimeout": "5",
        "ArticleRetries": "1",
        "ArticleInterval": "1",
    }
    (root / "scripts").mkdir(exist_ok=True)
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


def _deluge_conf(path: Path, file_version: int, values: dict) -> None:
    """Deluge's config format: a version object, then the settings object, in one file."""
    path.write_text(json.dumps({"file": file_version, "format": 1}) + json.dumps(values, indent=2))


def start_deluge(root: Path) -> Daemon:
    """deluged plus deluge-web, the web UI attached to the daemon at start (web.conf default_daemon),
    its password set the way deluge-web stores it (sha1 of salt + password)."""
    root.mkdir(parents=True, exist_ok=True)
    config, downloads = root / "config", root / "downloads"
    config.mkdir(exist_ok=True)
    downloads.mkdir(exist_ok=True)
    port, daemon_port, peer_port = free_port(), free_port(), free_port()
    daemon_password = "dlw-daemon-" + os.urandom(6).hex()
    (config / "auth").write_text(f"{USERNAME}:{daemon_password}:10\n")
    _deluge_conf(
        config / "core.conf",
        1,
        {
            "download_location": str(downloads),
            "listen_ports": [peer_port, peer_port],
            "random_port": False,
            "listen_interface": "127.0.0.1",
            "outgoing_interface": "lo",
            "daemon_port": daemon_port,
            "allow_remote": False,
            "dht": False,
            "upnp": False,
            "natpmp": False,
            "utpex": False,
            "lsd": False,
            "new_release_check": False,
            "enabled_plugins": ["Label"],
            "max_active_downloading": 20,
            "max_active_limit": 40,
        },
    )
    host_id = os.urandom(16).hex()
    salt = hashlib.sha1(os.urandom(32)).hexdigest()
    _deluge_conf(
        config / "web.conf",
        2,
        {
            "port": port,
            "interface": "127.0.0.1",
            "https": False,
            "pwd_salt": salt,
            "pwd_sha1": hashlib.sha1((salt + PASSWORD).encode()).hexdigest(),
            "default_daemon": host_id,
            "first_login": False,
            "session_timeout": 3600,
        },
    )
    _deluge_conf(
        config / "hostlist.conf", 3, {"hosts": [[host_id, "127.0.0.1", daemon_port, USERNAME, daemon_password]]}
    )
    log = root / "deluged.log"
    # -u 127.0.0.1: deluged's control port on loopback by address, so a machine whose /etc/hosts
    # lacks `localhost` (minimal containers, chroots) can run it, and nothing listens beyond loopback.
    args = ["deluged", "-d", "-c", str(config), "-u", "127.0.0.1", "-p", str(daemon_port), "-l", str(log), "-L", "info"]
    process = _spawn(args, root / "deluge.stdout", root)
    _wait_tcp_port(process, daemon_port, log)
    web_args = ["deluge-web", "-d", "-c", str(config), "-i", "127.0.0.1", "-p", str(port), "-l", str(root / "web.log")]
    web = _spawn(web_args, root / "deluge-0.stdout", root)
    daemon = Daemon(
        "deluge",
        port,
        root,
        log,
        process,
        username="",
        download_dir=downloads,
        peer_port=peer_port,
        args=args,
        ready_path="/json",
        companions=[(web_args, web)],
    )
    _wait_http(daemon, daemon.url + daemon.ready_path)
    return daemon


def _wait_tcp_port(process: subprocess.Popen, port: int, log: Path, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1.0).close()
            return
        except OSError:
            time.sleep(0.1)
    _stop(process, 5)
    tail = log.read_text(errors="replace")[-2000:] if log.exists() else "(no log)"
    raise RuntimeError(f"{process.args[0]} did not listen on port {port}:\n{tail}")


def start_rtorrent(root: Path, *, unix_socket: bool = False) -> Daemon:
    """rtorrent in daemon mode (no terminal), its XML-RPC on an SCGI port it opens itself, or on a
    unix socket. It has no authentication of its own: whoever reaches the port may call it."""
    root.mkdir(parents=True, exist_ok=True)
    downloads, session = root / "downloads", root / "session"
    downloads.mkdir(exist_ok=True)
    session.mkdir(exist_ok=True)
    port, peer_port = free_port(), free_port()
    socket_path = root / "rpc.socket"
    listen = f"network.scgi.open_local = {socket_path}" if unix_socket else f"network.scgi.open_port = 127.0.0.1:{port}"
    rc = root / "rtorrent.rc"
    rc.write_text(
        "\n".join(
            [
                f"directory.default.set = {downloads}",
                f"session.path.set = {session}",
                f"network.port_range.set = {peer_port}-{peer_port}",
                "network.port_random.set = no",
                "network.bind_address.set = 127.0.0.1",
                "dht.mode.set = disable",
                "protocol.pex.set = no",
                "trackers.use_udp.set = no",
                "system.daemon.set = true",
                f'log.open_file = "main", {root / "rtorrent.log"}',
                'log.add_output = "info", "main"',
                listen,
                "",
            ]
        )
    )
    args = [BINARIES["rtorrent"], "-n", "-o", f"import={rc}"]
    process = _spawn(args, root / "rtorrent.stdout", root)
    daemon = Daemon(
        "rtorrent",
        port,
        root,
        root / "rtorrent.log",
        process,
        username="",
        password="",
        download_dir=downloads,
        peer_port=peer_port,
        args=args,
        ready_path="",
        extra={"socket": str(socket_path)} if unix_socket else {},
    )
    if unix_socket:
        _wait_unix(daemon, socket_path)
    else:
        _wait_tcp(daemon)
    return daemon


def _wait_unix(daemon: Daemon, path: Path, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and daemon.running():
        if path.exists():
            return
        time.sleep(0.1)
    daemon.stop()
    raise RuntimeError(f"rtorrent did not open {path}:\n{daemon.log_tail()}")


def start_aria2(root: Path) -> Daemon:
    """aria2c with its JSON-RPC on loopback behind an RPC secret; no DHT, LPD or PEX, so peers come
    only from the tests' tracker. A finished torrent stops at once instead of seeding."""
    root.mkdir(parents=True, exist_ok=True)
    downloads = root / "downloads"
    downloads.mkdir(exist_ok=True)
    port, peer_port = free_port(), free_port()
    log = root / "aria2.log"
    args = [
        BINARIES["aria2"],
        "--enable-rpc",
        f"--rpc-listen-port={port}",
        f"--rpc-secret={PASSWORD}",
        "--rpc-listen-all=false",
        f"--dir={downloads}",
        "--enable-dht=false",
        "--enable-dht6=false",
        "--bt-enable-lpd=false",
        "--enable-peer-exchange=false",
        f"--listen-port={peer_port}",
        "--seed-time=0",
        "--max-concurrent-downloads=20",
        "--follow-torrent=mem",
        f"--log={log}",
        "--log-level=info",
        "--quiet=true",
    ]
    process = _spawn(args, root / "aria2.stdout", root)
    daemon = Daemon(
        "aria2",
        port,
        root,
        log,
        process,
        username="",
        download_dir=downloads,
        peer_port=peer_port,
        args=args,
        ready_path="/jsonrpc",
    )
    _wait_http(daemon, daemon.url + daemon.ready_path)
    return daemon


STARTERS = {
    "transmission": start_transmission,
    "qbittorrent": start_qbittorrent,
    "nzbget": start_nzbget,
    "deluge": start_deluge,
    "rtorrent": start_rtorrent,
    "aria2": start_aria2,
}
