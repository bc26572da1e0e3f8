"""Run the shipped nginx configuration (deploy/nginx/liveblog.conf) as the test user.

The site file is the one operators install; only its addresses, ports and
paths are replaced. Around it goes a minimal main configuration of the test's
own: its prefix, pid, logs and temp paths in a temporary directory, ``daemon
off`` so the test owns the process, and no access to the machine's nginx.
"""

from __future__ import annotations

import datetime
import getpass
import os
import re
import shutil
import ssl
import subprocess
from pathlib import Path

from django.conf import settings

from tests.helpers import free_port, wait_until_listening

SITE_CONFIG = Path(settings.BASE_DIR) / "deploy" / "nginx" / "liveblog.conf"
HOST = "localhost"


def nginx_executable() -> str:
    """Return Debian's nginx (in /usr/sbin, often not on a user's PATH); fail if missing."""
    found = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")
    if found is None:
        raise RuntimeError(
            "nginx is not installed; the reverse-proxy tests need it (apt-get install nginx)"
        )
    return found


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """Write a throw-away certificate for ``localhost``; return (certificate, key)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(HOST)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def _replace(text: str, old: str, new: str, count: int = 1) -> str:
    """Replace ``old`` exactly ``count`` times; fail loudly if the shipped file changed."""
    found = text.count(old)
    if found != count:
        raise AssertionError(f"{SITE_CONFIG.name}: expected {old!r} {count}x, found {found}x")
    return text.replace(old, new)


def render_site_config(
    *,
    upstream_ports: list[int],
    http_port: int,
    https_port: int,
    cache_dir: Path,
    static_root: Path,
    access_log: Path,
    certificate: Path,
    key: Path,
) -> str:
    """Return the shipped site configuration with this test's ports and paths."""
    text = SITE_CONFIG.read_text()
    servers, found = re.subn(
        r"(?m)^    server 127\.0\.0\.1:\d+;.*\n",
        "",
        text,
    )
    if found < 1:
        raise AssertionError(f"{SITE_CONFIG.name}: no upstream server lines found")
    upstream_lines = "".join(f"    server 127.0.0.1:{port};\n" for port in upstream_ports)
    text = _replace(servers, "upstream liveblog {\n", "upstream liveblog {\n" + upstream_lines)
    text = _replace(text, "listen 80;", f"listen 127.0.0.1:{http_port};")
    text = _replace(text, "listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;")
    text = _replace(text, "server_name ticker.example.com;", f"server_name {HOST};", 2)
    text = _replace(text, "/var/cache/nginx/liveblog", str(cache_dir))
    text = _replace(text, "/srv/liveblog/staticfiles/", f"{static_root}/")
    text = _replace(text, "/var/log/nginx/liveblog.access.log", str(access_log))
    text = _replace(text, "/etc/ssl/liveblog/fullchain.pem", str(certificate))
    return _replace(text, "/etc/ssl/liveblog/privkey.pem", str(key))


class Nginx:
    """nginx in front of daphne processes, in a directory of its own, on free ports."""

    def __init__(self, directory: Path, upstream_ports: list[int], *, workers: int = 1) -> None:
        self.directory = directory
        self.upstream_ports = upstream_ports
        self.workers = workers
        self.http_port = free_port()
        self.https_port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.certificate, self.key = self_signed_certificate(directory)

    @property
    def url(self) -> str:
        return f"https://{HOST}:{self.https_port}"

    @property
    def ws_url(self) -> str:
        return f"wss://{HOST}:{self.https_port}"

    def ssl_context(self) -> ssl.SSLContext:
        """A client context that trusts exactly this server's certificate."""
        return ssl.create_default_context(cafile=str(self.certificate))

    def write_config(self) -> Path:
        for name in ("cache", "client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (self.directory / name).mkdir(exist_ok=True)
        site = self.directory / "liveblog.conf"
        site.write_text(
            render_site_config(
                upstream_ports=self.upstream_ports,
                http_port=self.http_port,
                https_port=self.https_port,
                cache_dir=self.directory / "cache",
                static_root=Path(settings.STATIC_ROOT),
                access_log=self.directory / "liveblog.access.log",
                certificate=self.certificate,
                key=self.key,
            )
        )
        mime_types = Path("/etc/nginx/mime.types")
        types = (
            f"include {mime_types};"
            if mime_types.exists()
            else "types { text/css css; text/javascript js; application/json json; }"
        )
        d = self.directory
        # As root the workers would run as "nobody" and could not read the
        # test's private directories; keep them as the test's own user.
        user = f"user {getpass.getuser()};" if os.geteuid() == 0 else ""
        main = d / "nginx.conf"
        main.write_text(
            f"""{user}
daemon off;
worker_processes {self.workers};
pid {d}/nginx.pid;
error_log {d}/error.log notice;
events {{ worker_connections 4096; }}
http {{
    {types}
    default_type application/octet-stream;
    access_log {d}/access.log;
    client_body_temp_path {d}/client_body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    include {site};
}}
"""
        )
        return main

    def start(self, timeout: float = 15) -> Nginx:
        main = self.write_config()
        command = [
            nginx_executable(), "-p", str(self.directory), "-c", str(main),
            "-e", str(self.directory / "error.log"),
        ]  # fmt: skip
        check = subprocess.run([*command, "-t"], capture_output=True, text=True, timeout=30)
        if check.returncode != 0:
            raise RuntimeError(f"nginx -t failed:\n{check.stderr}")
        with (self.directory / "stderr.log").open("ab") as stream:
            self.process = subprocess.Popen(command, stdout=stream, stderr=stream)
        wait_until_listening("nginx", self.process, self.https_port, lambda: self.errors, timeout)
        return self

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()  # SIGTERM: fast shutdown
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
        self.process = None

    @property
    def errors(self) -> str:
        log = self.directory / "error.log"
        return log.read_text(errors="replace") if log.exists() else ""
