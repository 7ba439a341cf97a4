"""The sandbox's TLS: a private CA and a server certificate for this machine, generated once per directory.

Microsoft's msal and simple-salesforce insist on https, so the sandbox also listens on a TLS port
(`--tls-port`). Clients trust it through the CA file (`ca.pem`) like a firm's private CA — a connection's
`ca_bundle`, or `REQUESTS_CA_BUNDLE` — never by turning verification off. The files are kept and reused,
so a CA bundle written into a connection stays valid across restarts of `make run`.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = ["TlsFiles", "ensure_certificates"]

HOSTS = ("localhost", "127.0.0.1", "::1")
VALID_DAYS = 825  # the longest a server certificate may live for clients that check (Apple's rule)


@dataclass(frozen=True)
class TlsFiles:
    ca_cert: Path  # what clients trust
    server_cert: Path  # the chain the server presents (leaf, then CA)
    server_key: Path


def ensure_certificates(directory: Path | str) -> TlsFiles:
    """The CA and server files in `directory`, generated when missing or when the leaf has expired."""
    directory = Path(directory)
    files = TlsFiles(directory / "ca.pem", directory / "server.pem", directory / "server-key.pem")
    if all(p.exists() for p in (files.ca_cert, files.server_cert, files.server_key)) and _valid(files):
        return files
    directory.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)  # tolerate small clock skew
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "firmsync sandbox CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=VALID_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    names: list[x509.GeneralName] = [x509.DNSName("localhost")]
    names += [x509.IPAddress(ipaddress.ip_address(h)) for h in HOSTS if h != "localhost"]
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=VALID_DAYS))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    _write(
        files.server_key,
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
        0o600,
    )
    _write(files.server_cert, leaf.public_bytes(pem) + ca.public_bytes(pem), 0o644)
    _write(files.ca_cert, ca.public_bytes(pem), 0o644)  # last: its presence means the set is complete
    return files


def _valid(files: TlsFiles) -> bool:
    leaf = x509.load_pem_x509_certificate(files.server_cert.read_bytes())
    return leaf.not_valid_after_utc > dt.datetime.now(dt.UTC) + dt.timedelta(days=1)


def _write(path: Path, data: bytes, mode: int) -> None:
    # Write then rename: two processes starting at once never read half a file.
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_bytes(data)
    tmp.chmod(mode)
    tmp.replace(path)
