"""A private PostgreSQL cluster on a loopback port for the store's tests (Debian's server packages).

The README says ``CUCU_DB`` may point at a PostgreSQL shared by several processes; these tests keep
that true. ``tests/install-debian-packages.sh`` installs the server; as root, it runs as ``postgres``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import uuid
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

from tests.support.net import free_port


def server_bin() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
    return found[-1].parent if found else None


@contextmanager
def postgres_cluster():
    """Yield the SQLAlchemy URL of a fresh cluster's ``postgres`` database; stop and remove it after."""
    bindir = server_bin()
    if bindir is None:
        raise RuntimeError("PostgreSQL server not installed: bash tests/install-debian-packages.sh")
    directory = Path(tempfile.mkdtemp(prefix="contingencia-pg-"))
    as_postgres: list[str] = []
    if os.geteuid() == 0:  # initdb refuses root
        shutil.chown(directory, "postgres", "postgres")
        as_postgres = ["runuser", "-u", "postgres", "--"]
    data, port = directory / "data", free_port()
    try:
        subprocess.run(
            [
                *as_postgres,
                str(bindir / "initdb"),
                "-D",
                str(data),
                "-U",
                "contingencia",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
            check=True,
            capture_output=True,
        )
        options = f"-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={directory} -c fsync=off"
        subprocess.run(
            [
                *as_postgres,
                str(bindir / "pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(directory / "server.log"),
                "-w",
                "-o",
                options,
                "start",
            ],
            check=True,
            capture_output=True,
        )
        try:
            yield f"postgresql+psycopg://contingencia@127.0.0.1:{port}/postgres"
        finally:
            subprocess.run(
                [*as_postgres, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"], capture_output=True
            )
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def fresh_database(server_url: str) -> str:
    """A new empty database on the cluster; returns its URL."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE {name}"))
    engine.dispose()
    return server_url.rsplit("/", 1)[0] + f"/{name}"
