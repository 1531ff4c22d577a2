"""Virtuoso open source (Debian's ``virtuoso-opensource``, 7.2.5) for benchmarks and comparisons.

Installs the package when ``virtuoso-t`` is missing (root and apt-get needed), starts a server
on loopback with its database, log and settings in a folder of the caller's (free ports, so
nothing clashes with another run or with a system instance), bulk-loads files with the
documented loader (``ld_dir`` + ``rdf_loader_run`` + ``checkpoint``), answers SPARQL over its
``/sparql`` endpoint, and stops it after (``shutdown``, then SIGTERM, then SIGKILL: only the
process this module started).

Settings that differ from Debian's ``virtuoso.ini`` and why:

- ``NumberOfBuffers`` / ``MaxDirtyBuffers``: Debian ships 10,000 buffers (80 MB), which is
  far too small to bulk-load millions of triples; OpenLink's table gives 340,000 / 250,000
  for 4 GB of RAM, the default here (``buffers=``).
- ``[HTTPServer] ServerThreads``, ``MaxClientConnections``, ``MaxKeepAlives``: 10 in Debian's
  file, which would queue 32 benchmark connections; 40 here.
- ``[SPARQL] ResultSetMaxRows`` (10,000) and ``MaxQueryExecutionTime`` (60 s, after which
  Virtuoso returns *partial* results): raised / disabled, so answers are complete.
- ``EnabledGzipContent = 0``: neither side compresses in the comparisons.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

VIRTUOSO = "virtuoso-t"
ISQL = "isql-vt"
VSP = Path("/var/lib/virtuoso-opensource-7/vsp")
INI = """\
[Database]
DatabaseFile = {d}/virtuoso.db
ErrorLogFile = {d}/virtuoso.log
LockFile = {d}/virtuoso.lck
TransactionFile = {d}/virtuoso.trx
xa_persistent_file = {d}/virtuoso.pxa
ErrorLogLevel = 7
FileExtend = 200
MaxCheckpointRemap = 2000
Striping = 0
TempStorage = TempDatabase
[TempDatabase]
DatabaseFile = {d}/virtuoso-temp.db
TransactionFile = {d}/virtuoso-temp.trx
MaxCheckpointRemap = 2000
Striping = 0
[Parameters]
ServerPort = 127.0.0.1:{sql_port}
DisableUnixSocket = 1
CheckpointInterval = 60
DirsAllowed = ., {d}, {data_dirs}
NumberOfBuffers = {buffers}
MaxDirtyBuffers = {dirty}
MaxQueryMem = 2G
ThreadsPerQuery = 2
[HTTPServer]
ServerPort = 127.0.0.1:{http_port}
ServerRoot = {vsp}
ServerThreads = {threads}
MaxClientConnections = {threads}
MaxKeepAlives = {threads}
KeepAliveTimeout = 10
Charset = UTF-8
EnabledGzipContent = 0
[SPARQL]
ResultSetMaxRows = 100000000
MaxQueryExecutionTime = 0
MaxQueryCostEstimationTime = 0
"""


class VirtuosoError(RuntimeError):
    """Virtuoso did not start, or a SQL statement failed (the message quotes isql)."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def ensure_installed() -> str:
    """Install ``virtuoso-opensource`` if ``virtuoso-t`` is missing; return its version line."""
    if not shutil.which(VIRTUOSO):
        if os.geteuid() != 0:
            raise VirtuosoError("virtuoso-t is missing and installing it needs root: "
                                "apt-get install virtuoso-opensource")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "install", "-y", "-q", "virtuoso-opensource"],
                       check=True, env=env, stdout=subprocess.DEVNULL)
    out = subprocess.run([VIRTUOSO, "-?"], capture_output=True, text=True)
    text = out.stdout + out.stderr
    return next((line.strip() for line in text.splitlines() if "Version" in line), "unknown")


def proc_status(pid: int, key: str) -> int:
    """A ``/proc/PID/status`` field in KiB (``VmRSS``, ``VmHWM``), 0 if the process is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (``/proc/PID/stat``), 0 if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def folder_bytes(folder: Path) -> int:
    """Bytes the files under ``folder`` occupy on disk (allocated blocks, as ``du``)."""
    return sum(p.stat().st_blocks * 512 for p in folder.rglob("*") if p.is_file())


def post_query(url: str, text: str, accept: str = "application/sparql-results+xml",
               timeout: float = 600) -> tuple[int, bytes, dict[str, str]]:
    """POST a query to a SPARQL endpoint: status, body and headers (an error is an answer)."""
    data = urllib.parse.urlencode({"query": text}).encode()
    request = urllib.request.Request(url, data=data, headers={
        "Accept": accept, "Content-Type": "application/x-www-form-urlencoded"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read(), dict(error.headers)


@dataclass
class Virtuoso:
    """A running ``virtuoso-t`` over ``folder``; use :meth:`start` and ``with``."""

    folder: Path
    sql_port: int
    http_port: int
    proc: subprocess.Popen[bytes]
    log: list[str] = field(default_factory=list)

    @classmethod
    def start(cls, folder: Path, data_dirs: list[Path] | None = None, buffers: int = 340_000,
              threads: int = 40, timeout: float = 120) -> Virtuoso:
        """Write ``virtuoso.ini`` into ``folder`` and start the server; wait until it answers.

        ``data_dirs`` are the folders bulk loads may read from (``DirsAllowed``).
        """
        folder.mkdir(parents=True, exist_ok=True)
        sql_port, http_port = free_port(), free_port()
        dirs = ", ".join(str(p.resolve()) for p in data_dirs or [])
        ini = INI.format(d=folder.resolve(), sql_port=sql_port, http_port=http_port,
                         buffers=buffers, dirty=buffers * 3 // 4, threads=threads,
                         vsp=VSP if VSP.is_dir() else folder.resolve(),
                         data_dirs=dirs or folder.resolve())
        (folder / "virtuoso.ini").write_text(ini)
        with open(folder / "stdout.log", "wb") as out:
            proc = subprocess.Popen([VIRTUOSO, "+foreground", "+configfile", "virtuoso.ini"],
                                    cwd=folder, stdout=out, stderr=subprocess.STDOUT)
        server = cls(folder, sql_port, http_port, proc)
        server._wait_ready(timeout)
        return server

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise VirtuosoError(f"virtuoso-t exited ({self.proc.returncode}); see "
                                    f"{self.folder / 'virtuoso.log'}")
            try:
                with urllib.request.urlopen(self.sparql_url + "?query=ASK%7B%7D", timeout=5):
                    return
            except (OSError, urllib.error.URLError):
                time.sleep(0.5)
        self.stop()
        raise VirtuosoError(f"virtuoso-t did not answer within {timeout:.0f} s")

    @property
    def sparql_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}/sparql"

    @property
    def pid(self) -> int:
        return self.proc.pid

    def rss_kib(self) -> int:
        return proc_status(self.pid, "VmRSS")

    def peak_rss_kib(self) -> int:
        return proc_status(self.pid, "VmHWM")

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.pid)

    def store_bytes(self) -> int:
        """The database file ``virtuoso.db`` as allocated on disk (after a checkpoint it
        holds everything; it grows by ``FileExtend`` pages, so some of it is free space)."""
        return (self.folder / "virtuoso.db").stat().st_blocks * 512

    def isql(self, sql: str, timeout: float = 7200) -> str:
        """Run SQL statements (``;``-terminated) through ``isql-vt``; raise on any error."""
        cmd = [ISQL, f"127.0.0.1:{self.sql_port}", "dba", "dba", "VERBOSE=OFF", "BANNER=OFF",
               "PROMPT=OFF", "ECHO=OFF"]
        out = subprocess.run(cmd, input=sql, capture_output=True, encoding="utf-8",
                             errors="replace", timeout=timeout)
        text = out.stdout + out.stderr
        if "*** Error" in text or out.returncode:
            raise VirtuosoError(f"isql failed on {sql[:200]!r}:\n{text[-2000:]}")
        return text

    def scalar(self, sql: str) -> str:
        """The single value a one-row, one-column statement returns, as text."""
        lines = [line.strip() for line in self.isql(sql).splitlines() if line.strip()]
        return lines[-1] if lines else ""

    def bulk_load(self, files: list[Path], graph: str, loaders: int = 1) -> None:
        """Bulk-load ``files`` (N-Triples into ``graph``, N-Quads into their own graphs).

        The documented recipe: register the files with ``ld_dir``, run ``loaders``
        ``rdf_loader_run()`` sessions in parallel (one file each at a time), ``checkpoint``;
        a file the loader rejected is an error.
        """
        register = "".join(f"ld_dir('{f.parent.resolve()}', '{f.name}', '{graph}');\n"
                           for f in files)
        self.isql("DELETE FROM DB.DBA.LOAD_LIST;\n" + register)
        runners = [subprocess.Popen([ISQL, f"127.0.0.1:{self.sql_port}", "dba", "dba",
                                     "exec=rdf_loader_run();"],
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                   for _ in range(loaders)]
        for runner in runners:
            out, _ = runner.communicate()
            if "*** Error" in out:
                raise VirtuosoError(f"rdf_loader_run failed:\n{out[-2000:]}")
        self.isql("checkpoint;")
        if self.scalar("SELECT COUNT(*) FROM DB.DBA.LOAD_LIST WHERE ll_error IS NOT NULL;") != "0":
            errors = self.isql("SELECT ll_file, ll_error FROM DB.DBA.LOAD_LIST;")
            raise VirtuosoError(f"the loader rejected a file:\n{errors}")

    def query(self, text: str, accept: str = "application/sparql-results+xml",
              timeout: float = 600) -> tuple[int, bytes, dict[str, str]]:
        """:func:`post_query` to this server's ``/sparql``."""
        return post_query(self.sparql_url, text, accept, timeout)

    def stop(self, timeout: float = 120) -> None:
        """Shut the server down cleanly, else terminate it; only this process."""
        if self.proc.poll() is not None:
            return
        with contextlib.suppress(VirtuosoError, subprocess.TimeoutExpired):
            self.isql("shutdown;", timeout=timeout)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self) -> Virtuoso:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    """``python benchmarks/virtuoso.py FOLDER [FILE...]``: serve files until interrupted."""
    import argparse

    parser = argparse.ArgumentParser(description="Start Virtuoso on loopback over FOLDER, "
                                     "bulk-load FILEs, print its /sparql URL, stop on Ctrl-C "
                                     "or SIGTERM.")
    parser.add_argument("folder", type=Path)
    parser.add_argument("files", type=Path, nargs="*")
    parser.add_argument("--graph", default="urn:k2d3:loaded", help="graph for N-Triples files")
    parser.add_argument("--buffers", type=int, default=340_000)
    args = parser.parse_args(argv)
    print(ensure_installed(), flush=True)
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    dirs = sorted({f.parent for f in args.files})
    with Virtuoso.start(args.folder, data_dirs=dirs, buffers=args.buffers) as server:
        if args.files:
            server.bulk_load(args.files, args.graph)
        print(f"{server.sparql_url} (isql port {server.sql_port}, pid {server.pid})", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            server.proc.wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
