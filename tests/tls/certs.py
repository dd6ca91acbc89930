"""Throwaway certificates made at test time with the openssl CLI (EC P-256: fast).

`make_pki(dir)` writes a CA, a server certificate for 127.0.0.1/localhost, a client
certificate signed by the CA, and a second "rogue" CA with a client certificate of its
own (a client that presents a certificate the server must not trust).
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]


def have_openssl() -> bool:
    return shutil.which("openssl") is not None


def _openssl(d: Path, *args: str) -> None:
    subprocess.run(["openssl", *args], cwd=d, check=True, capture_output=True, timeout=60)


def _ca(d: Path, name: str) -> None:
    _openssl(d, "req", "-x509", *EC, "-days", "2", "-subj", f"/CN={name}",
             "-keyout", f"{name}.key", "-out", f"{name}.pem")


def _leaf(d: Path, name: str, ca: str, ext: str) -> None:
    _openssl(d, "req", *EC, "-subj", f"/CN={name}", "-keyout", f"{name}.key",
             "-out", f"{name}.csr")
    (d / f"{name}.ext").write_text(ext)
    _openssl(d, "x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.pem", "-CAkey",
             f"{ca}.key", "-CAcreateserial", "-days", "2", "-extfile", f"{name}.ext",
             "-out", f"{name}.pem")


@dataclass(frozen=True)
class Pki:
    dir: Path

    def path(self, name: str) -> Path:
        return self.dir / name

    def read(self, name: str) -> bytes:
        return (self.dir / name).read_bytes()


def make_pki(d: Path) -> Pki:
    _ca(d, "ca")
    _leaf(d, "server", "ca", "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                             "extendedKeyUsage=serverAuth\n")
    _leaf(d, "client", "ca", "extendedKeyUsage=clientAuth\n")
    _ca(d, "rogue-ca")
    _leaf(d, "rogue", "rogue-ca", "extendedKeyUsage=clientAuth\n")
    return Pki(d)
