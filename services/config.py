"""Server configuration, validated when built from command-line flags.

Owns `ServerConfig` and `TlsConfig`, the settings of one server process. Rules: frozen,
validated once when built (a bad URL or value fails the start, naming the flag), passed
down explicitly; no module globals for tunables.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path

from blockstore.urls import file_url, sqlite_url
from chunkstore.open import check_chunks_url
from manifest.open import check_db_url

PLANES = frozenset({"control", "data"})
MAX_MESSAGE_BYTES = 16 << 20   # the largest chunk (4 MiB) plus framing, with room to spare


@dataclass(frozen=True)
class TlsConfig:
    cert: Path
    key: Path
    client_ca: Path | None = None


@dataclass(frozen=True)
class ServerConfig:
    listen: str
    db_url: str
    chunks_url: str = ""
    planes: frozenset[str] = PLANES
    fsync: bool = True
    grace_s: float = 10.0
    tls: TlsConfig | None = None
    init: bool = False              # --init: bind the chunk store to a new, empty manifest
    gc_interval_s: float = 0.0      # periodic GC in data-plane processes; 0: off
    gc_grace_s: float = 3600.0      # see services/gc.py: dedup window, not a safety margin
    # Per-account fairness caps (docs/limits.md); validated by the plane configs.
    max_upload_streams_per_account: int = 16       # per data-plane process
    max_upload_streams: int = 64                   # per data-plane process, all accounts
    max_pending_snapshots_per_account: int = 64
    stream_idle_timeout_s: float = 30.0            # UploadBlocks: longest wait per message
    upload_memory_bytes: int = 96 << 20            # block data of all upload streams at once
    max_blocks_per_stream: int = 32_768            # blocks of one UploadBlocks stream
    max_download_chunks: int = 1 << 20             # chunk positions of one DownloadBlocks call
    min_free_bytes: int = 64 << 20                 # free-space reserve (services/space.py)
    max_connections: int = 0                       # 0: from the fd limit (services/connections.py)
    max_connection_idle_s: float = 300.0           # a connection with no call is closed after
    metrics_listen: str = ""                       # HOST:PORT of /metrics; "": none
    ebs_listen: str = ""                           # HOST:PORT of EBS direct (data plane); "": none
    ebs_plain_http: bool = False                   # EBS over plain HTTP despite TLS / off loopback
    advertise: str = ""                            # HOST:PORT clients dial (services/advertise.py)
    advertise_ttl_s: float = 15.0                  # a registration not renewed this long expires

    @property
    def ebs_https(self) -> bool:
        """The EBS listener speaks HTTPS with the gRPC side's certificate (and client CA)."""
        return self.tls is not None and not self.ebs_plain_http

    def __post_init__(self) -> None:
        if not self.planes or not self.planes <= PLANES:
            raise ValueError(f"planes must be a non-empty subset of {sorted(PLANES)}")
        if "data" in self.planes and not self.chunks_url:
            raise ValueError("the data plane needs --chunks (or --data-dir)")
        # Everything a start could refuse is refused here, before any store is created.
        check_db_url(self.db_url)
        if self.chunks_url:
            check_chunks_url(self.chunks_url)
        for flag, value in (("--listen", self.listen), ("--metrics-listen", self.metrics_listen),
                            ("--ebs-listen", self.ebs_listen)):
            host, sep, port = value.rpartition(":")
            if (value or flag == "--listen") and (not sep or not host or not port.isdigit()):
                raise ValueError(f"{flag} {value!r}: expected HOST:PORT")
        if self.grace_s < 0:
            raise ValueError("--grace must be >= 0 seconds")
        if self.max_connections < 0 or self.max_connection_idle_s <= 0:
            raise ValueError("--max-connections must be >= 0 and --max-connection-idle > 0")
        for flag, value in (("--upload-memory", self.upload_memory_bytes),
                            ("--max-blocks-per-stream", self.max_blocks_per_stream),
                            ("--max-download-chunks", self.max_download_chunks)):
            if value < 1:
                raise ValueError(f"{flag} must be at least 1, got {value}")
        if self.min_free_bytes < 0:
            raise ValueError("--min-free must be >= 0")
        if self.ebs_listen and "data" not in self.planes:
            raise ValueError("--ebs-listen needs the data plane (serve or data-plane)")
        check_ebs_transport(self.ebs_listen, self.tls is not None, self.ebs_plain_http)
        if self.advertise:
            a_host, a_sep, a_port = self.advertise.rpartition(":")
            if "data" not in self.planes:
                raise ValueError("--advertise needs the data plane (serve or data-plane)")
            if not a_sep or not a_host or not a_port.isdigit() or int(a_port) == 0:
                raise ValueError(f"--advertise {self.advertise!r}: expected HOST:PORT "
                                 "with a port clients can dial")
        if self.advertise_ttl_s < 1:
            raise ValueError("--advertise-ttl must be at least 1 second")
        if self.gc_interval_s < 0 or self.gc_grace_s <= 0:
            raise ValueError("--gc-interval must be >= 0 and --gc-grace > 0 seconds")


def is_loopback(host: str) -> bool:
    host = host.strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False          # a name other than localhost may resolve to anything


def check_ebs_transport(listen: str, tls: bool, plain_http: bool) -> None:
    """EBS direct speaks HTTPS when the server has TLS. Plain HTTP carries block data, and
    signed requests that can be replayed for 15 minutes (docs/ebs.md), in clear, so it is
    allowed off loopback only when asked for by name (a TLS proxy in front)."""
    if not listen or tls or plain_http or is_loopback(listen.rpartition(":")[0]):
        return
    raise ValueError(f"--ebs-listen {listen}: not a loopback address, and without TLS "
                     "(--tls-cert/--tls-key) EBS direct would carry block data and "
                     "replayable signed requests in clear; configure TLS, or pass "
                     "--ebs-plain-http if a TLS proxy in front of it is the only way in")


def check_tls_files(tls: TlsConfig | None) -> None:
    """A start refuses unreadable TLS files by flag name before it opens any store."""
    for flag, path in (("--tls-cert", tls and tls.cert), ("--tls-key", tls and tls.key),
                       ("--tls-client-ca", tls and tls.client_ca)):
        if path is None:
            continue
        try:
            with open(path, "rb"):
                pass
        except OSError as err:
            raise ValueError(f"{flag} {path}: cannot read it ({err.strerror})") from None


def default_urls(data_dir: Path) -> tuple[str, str]:
    """Embedded defaults under --data-dir: SQLite manifest and a local chunk directory."""
    data_dir = data_dir.resolve()
    return sqlite_url(data_dir / "manifest.db"), file_url(data_dir / "chunks")
