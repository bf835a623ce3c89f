"""Benchmark ``flask_s3.create_all`` against Flask-S3 0.3.3, ``aws s3 sync`` and
a plain 16-thread boto3 loop, over a link with a real round trip, in one run.

A deploy uploads many small files, so its time goes in round trips, not in
bandwidth: on loopback every uploader looks instant and the comparison says
nothing. Here every contender talks to a moto S3 server through a loopback
proxy that delays each direction by 15 ms (30 ms per round trip), and the
proxy counts and times the requests each contender sends, which is where a slow
run is explained. A deploy also starts a fresh
interpreter, so every contender runs as a process of its own and its start-up
is part of its time; 0.3.3 must run in its own venv anyway, since it imports
as ``flask_s3`` like us. The no-change re-run is what most deploys are, so it
is timed on its own. Finally, a single 512 MiB asset, sent straight to moto,
checks that an upload streams instead of holding whole files in memory.

The venvs for 0.3.3 and the AWS CLI are created with pip on the first run under
bench/.venvs/. Run from the repository root with ``python bench/upload.py``; it
uses src/ of this checkout and exits with 1 when a goal is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from _provenance import checkout

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
CHILD = BENCH / "_upload_child.py"
PEER_VENV = BENCH / ".venvs" / "flask-s3-0.3.3"
AWSCLI_VENV = BENCH / ".venvs" / "awscli"

FILES = 200
FILE_SIZE = 10 * 1024
ONE_WAY_DELAY = 0.015
BIG_FILE = 512 * 1024 * 1024
PREFIX = "static"

MAX_RATIO_VS_SYNC = 1.0
MAX_RATIO_VS_PLAIN = 1.25
MIN_SPEEDUP_VS_033 = 8.0
MAX_PEAK_RSS_MIB = 150

CONTENDERS = ("ours", "0.3.3", "aws s3 sync", "plain boto3 x16")
NO_RERUN = "plain boto3 x16"
"""The plain loop has no skip logic, so a re-run would just be a cold run."""


def expect(condition: bool, what: str) -> None:
    """Refuse to report a figure for a run that did not do what it is named after."""
    if not condition:
        raise SystemExit(f"benchmark setup is wrong: {what}")


# --- an environment that can only reach the loopback moto ---------------------


def isolated_env(scratch: Path) -> dict[str, str]:
    """The environment of every process: fake credentials, no profile, no
    endpoint or CA from the caller's AWS setup, empty config files (so ~/.aws
    is never read), no HTTP proxy, no PYTHONPATH."""
    empty = scratch / "aws-empty"
    empty.write_text("")
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("AWS_", "PYTHON"))
        and name.lower() not in ("http_proxy", "https_proxy", "all_proxy")
    }
    env.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_CONFIG_FILE=str(empty),
        AWS_SHARED_CREDENTIALS_FILE=str(empty),
        AWS_EC2_METADATA_DISABLED="true",
        NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
    )
    return env


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def cpu_seconds_of(pid: int) -> float | None:
    """User + system CPU of a running process (Linux), to see who is busy."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@contextlib.contextmanager
def moto_server(env: dict[str, str]) -> Iterator[tuple[str, int]]:
    """A moto S3 server in its own process, so its CPU and memory are not ours.
    Yields its URL and pid."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(OSError):
                urllib.request.urlopen(f"{url}/moto-api/data.json", timeout=1).close()
                break
            expect(process.poll() is None, "the moto server exited at start-up")
            expect(time.monotonic() < deadline, "the moto server did not start")
            time.sleep(0.1)
        yield url, process.pid
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def reset_moto(url: str) -> None:
    """Forget every bucket, so each run meets a server in the same state."""
    request = urllib.request.Request(f"{url}/moto-api/reset", method="POST")
    urllib.request.urlopen(request, timeout=10).close()


# --- the latency proxy -----------------------------------------------------------


class RequestParser:
    """Splits a client's byte stream into HTTP requests, to count them.

    Bodies are skipped by Content-Length, which every S3 SDK sends; a chunked
    body would be miscounted, so parsing stops there and the connection is
    flagged instead.
    """

    def __init__(self, on_request: Callable[[str], None]) -> None:
        self._on_request = on_request
        self._pending = bytearray()
        self._body_left = 0
        self.lost = False

    def feed(self, data: bytes) -> None:
        if self.lost:
            return
        self._pending += data
        while True:
            if self._body_left:
                taken = min(self._body_left, len(self._pending))
                del self._pending[:taken]
                self._body_left -= taken
                if self._body_left:
                    return
            end = self._pending.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self._pending[:end].decode("latin-1").split("\r\n")
            del self._pending[: end + 4]
            method, target, _ = head[0].split(" ", 2)
            headers = dict(
                (name.strip().lower(), value.strip())
                for name, _, value in (line.partition(":") for line in head[1:])
            )
            self._on_request(request_kind(method, target))
            if "chunked" in headers.get("transfer-encoding", ""):
                self.lost = True
                return
            self._body_left = int(headers.get("content-length", 0))


def request_kind(method: str, target: str) -> str:
    """``PUT asset``, ``GET object`` (a manifest), ``PUT bucket?acl``..."""
    parts = urlsplit(target)
    _, _, key = parts.path.lstrip("/").partition("/")
    if not key:
        kind = "bucket"
    elif key.startswith(f"{PREFIX}/"):
        kind = "asset"
    else:
        kind = "object"
    query = sorted(name for name, _ in parse_qsl(parts.query, keep_blank_values=True))
    return f"{method} {kind}" + (f"?{query[0]}" if query else "")


@dataclass
class Traffic:
    started: float = field(default_factory=time.monotonic)
    connections: int = 0
    requests: Counter[str] = field(default_factory=Counter)
    unparsed_connections: int = 0
    timeline: list[tuple[float, str]] = field(default_factory=list)
    """When each request's head arrived, in seconds since ``started``."""

    @property
    def asset_puts(self) -> list[float]:
        return [at for at, kind in self.timeline if kind == "PUT asset"]

    def around_assets(self) -> tuple[list[str], list[str]]:
        """The requests before the first asset PUT, and after the last one."""
        puts = [i for i, (_, kind) in enumerate(self.timeline) if kind == "PUT asset"]
        if not puts:
            return [f"{kind} {at:.3f}" for at, kind in self.timeline], []
        return (
            [f"{kind} {at:.3f}" for at, kind in self.timeline[: puts[0]]],
            [f"{kind} {at:.3f}" for at, kind in self.timeline[puts[-1] + 1 :]],
        )

    @property
    def total(self) -> int:
        return sum(self.requests.values())


class LatencyProxy:
    """A loopback TCP proxy that delivers every chunk ``one_way`` seconds after
    it arrived, in both directions, like a long link with ample bandwidth.

    The delay is per chunk, not per connection, so a request on a kept-alive
    connection pays the full round trip, and an ``Expect: 100-continue`` (which
    botocore sends with every PutObject) pays a second one, as against S3.
    Connecting costs nothing: moto's Werkzeug server closes the connection
    after every response, so every client reconnects per request, which on a
    real link only keep-alive would make free; charging it would measure moto.
    Runs an asyncio loop in a thread of the benchmark process, which otherwise
    only waits.
    """

    def __init__(self, upstream_port: int, one_way: float) -> None:
        self._upstream_port = upstream_port
        self._one_way = one_way
        self._lock = threading.Lock()
        self._traffic = Traffic()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None

    def __enter__(self) -> str:
        self._thread.start()
        self._server = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._handle, "127.0.0.1", 0), self._loop
        ).result()
        port = self._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    def __exit__(self, *exc_info: object) -> None:
        assert self._server is not None
        self._loop.call_soon_threadsafe(self._server.close)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def take(self) -> Traffic:
        """The traffic since the last call."""
        with self._lock:
            taken, self._traffic = self._traffic, Traffic()
        return taken

    def _count(self, kind: str) -> None:
        now = time.monotonic()
        with self._lock:
            self._traffic.requests[kind] += 1
            self._traffic.timeline.append((now - self._traffic.started, kind))

    async def _handle(
        self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter
    ) -> None:
        parser = RequestParser(self._count)
        with self._lock:
            self._traffic.connections += 1
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(
                "127.0.0.1", self._upstream_port
            )
        except OSError:
            client_writer.close()
            return
        try:
            await asyncio.gather(
                self._pipe(client_reader, upstream_writer, parser),
                self._pipe(upstream_reader, client_writer, None),
                return_exceptions=True,
            )
        finally:
            if parser.lost:
                with self._lock:
                    self._traffic.unparsed_connections += 1
            for writer in (client_writer, upstream_writer):
                writer.close()

    async def _pipe(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        parser: RequestParser | None,
    ) -> None:
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def deliver() -> None:
            while True:
                due, data = await queue.get()
                if (wait := due - self._loop.time()) > 0:
                    await asyncio.sleep(wait)
                if not data:
                    if writer.can_write_eof():
                        writer.write_eof()
                    return
                writer.write(data)
                await writer.drain()

        delivery = asyncio.ensure_future(deliver())
        try:
            while data := await reader.read(1 << 16):
                if parser is not None:
                    parser.feed(data)
                queue.put_nowait((self._loop.time() + self._one_way, data))
        except ConnectionError:
            pass
        queue.put_nowait((self._loop.time() + self._one_way, b""))
        await delivery


# --- the contenders' environments ------------------------------------------------


def venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def ensure_venv(venv: Path, requirements: list[str]) -> Path:
    """Create or update a venv; a marker file skips pip once it matches (the
    same marker bench/url_for.py writes, so the two share the 0.3.3 venv)."""
    marker = venv / "bench-requirements.txt"
    wanted = "\n".join(requirements) + "\n"
    python = venv_python(venv)
    if python.exists() and marker.exists() and marker.read_text() == wanted:
        return python
    print(f"setting up {venv.relative_to(REPO)} ...", file=sys.stderr)
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "-q",
            "--disable-pip-version-check",
            *requirements,
        ],
        check=True,
    )
    marker.write_text(wanted)
    return python


def version_in(python: Path, distribution: str) -> str:
    return subprocess.run(
        [
            str(python),
            "-E",
            "-s",
            "-c",
            "import sys; from importlib.metadata import version; "
            "print(version(sys.argv[1]))",
            distribution,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(".")[:3] if part.isdigit())


def ensure_peer() -> Path:
    from importlib.metadata import version

    python = ensure_venv(
        PEER_VENV,
        [
            "Flask-S3==0.3.3",
            "six",
            f"flask=={version('flask')}",
            f"werkzeug=={version('werkzeug')}",
        ],
    )
    # AWS_ENDPOINT_URL_S3 is how 0.3.3 reaches the proxy; older botocore would
    # ignore it and try the real S3.
    if version_tuple(version_in(python, "botocore")) < (1, 31, 57):
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "-U", "boto3>=1.28.57"],
            check=True,
        )
    return python


def ensure_awscli() -> Path:
    ensure_venv(AWSCLI_VENV, ["awscli"])
    return AWSCLI_VENV / ("Scripts/aws.cmd" if os.name == "nt" else "bin/aws")


# --- the measurements ---------------------------------------------------------------


def write_static_tree(static: Path) -> None:
    """200 files of incompressible bytes in the folders a real app has."""
    layout = [
        ("css", ".css", 30),
        ("css/vendor", ".css", 20),
        ("js", ".js", 40),
        ("js/lib", ".js", 30),
        ("img", ".png", 50),
        ("img/icons", ".png", 30),
    ]
    expect(sum(count for *_, count in layout) == FILES, "the layout has 200 files")
    for folder, extension, count in layout:
        (static / folder).mkdir(parents=True)
        for index in range(count):
            name = f"{folder.replace('/', '-')}-{index:03d}{extension}"
            (static / folder / name).write_bytes(os.urandom(FILE_SIZE))


@dataclass(frozen=True)
class Run:
    wall: float
    inside: float | None
    traffic: Traffic
    cpu: dict[str, float | None]
    """CPU seconds spent during the run by the contender, moto and the proxy."""


@dataclass
class Bench:
    env: dict[str, str]
    moto: str
    moto_pid: int
    proxy_url: str
    latency_proxy: LatencyProxy
    static: Path
    peer_python: Path
    aws: Path
    admin: Any
    runs: dict[tuple[str, str], list[Run]] = field(default_factory=dict)
    peer_versions: dict[str, str] = field(default_factory=dict)

    def command(self, contender: str, bucket: str) -> tuple[list[str], dict[str, str]]:
        args = [str(self.static), bucket, self.proxy_url]
        if contender == "ours":
            env = {**self.env, "PYTHONPATH": str(REPO / "src")}
            return [sys.executable, "-s", str(CHILD), "ours", *args], env
        if contender == "0.3.3":
            # -E: no PYTHONPATH that could lead to our src/; -s: no user site.
            env = {**self.env, "AWS_ENDPOINT_URL_S3": self.proxy_url}
            return [str(self.peer_python), "-E", "-s", str(CHILD), "0.3.3", *args], env
        if contender == "plain boto3 x16":
            return [sys.executable, "-E", "-s", str(CHILD), "plain", *args], self.env
        destination = f"s3://{bucket}/{PREFIX}"
        return [
            str(self.aws),
            "s3",
            "sync",
            str(self.static),
            destination,
            "--endpoint-url",
            self.proxy_url,
            "--no-progress",
            "--only-show-errors",
        ], self.env

    def run(self, contender: str, bucket: str, phase: str) -> Run:
        command, env = self.command(contender, bucket)
        self.latency_proxy.take()
        cpu_before = (
            children_cpu_seconds(),
            cpu_seconds_of(self.moto_pid),
            time.process_time(),
        )
        started = time.perf_counter()
        done = subprocess.run(
            command, env=env, capture_output=True, text=True, check=False
        )
        wall = time.perf_counter() - started
        traffic = self.latency_proxy.take()
        moto_cpu = cpu_seconds_of(self.moto_pid)
        cpu = {
            "contender": children_cpu_seconds() - cpu_before[0],
            "moto": None if moto_cpu is None else moto_cpu - (cpu_before[1] or 0.0),
            # This process is the proxy's: the main thread only waits.
            "proxy": time.process_time() - cpu_before[2],
        }
        if done.returncode != 0:
            raise SystemExit(f"{contender} ({phase}) failed:\n{done.stderr}")
        report: dict[str, Any] = {}
        if contender != "aws s3 sync":
            report = json.loads(done.stdout.strip().splitlines()[-1])
        self.check(contender, bucket, phase, report, traffic)
        run = Run(wall, report.get("create_all_seconds"), traffic, cpu)
        self.runs.setdefault((contender, phase), []).append(run)
        return run

    def check(
        self,
        contender: str,
        bucket: str,
        phase: str,
        report: dict[str, Any],
        traffic: Traffic,
    ) -> None:
        listed = self.admin.list_objects_v2(Bucket=bucket, Prefix=f"{PREFIX}/")
        expect(
            listed.get("KeyCount") == FILES,
            f"{contender} ({phase}): {listed.get('KeyCount')} assets in the bucket",
        )
        puts = traffic.requests["PUT asset"]
        expect(
            puts == (FILES if phase == "cold" else 0),
            f"{contender} ({phase}) sent {puts} asset PUTs through the proxy",
        )
        if contender == "ours":
            expect(
                Path(report["module"]).resolve().is_relative_to(REPO / "src"),
                f"ours imported flask_s3 from {report['module']}",
            )
            wanted = (FILES, 0) if phase == "cold" else (0, FILES)
            got = (report["uploaded"], report["skipped"])
            expect(got == wanted, f"ours ({phase}) uploaded/skipped {got}")
        if contender == "0.3.3":
            expect(
                Path(report["module"]).resolve().is_relative_to(PEER_VENV),
                f"0.3.3 imported flask_s3 from {report['module']}",
            )
            self.peer_versions = report["versions"]

    def measure(self, contender: str, round_number: int) -> None:
        bucket = f"bench-{round_number}-{contender.split()[0].replace('.', '')}"
        reset_moto(self.moto)
        self.admin.create_bucket(Bucket=bucket)
        self.run(contender, bucket, "cold")
        if contender != NO_RERUN:
            self.run(contender, bucket, "re-run")


def profile_ours(bench: Bench, scratch: Path) -> str:
    """cProfile of our cold run and re-run, outside the timed runs; only the
    calling thread is profiled, so the upload workers show as waiting."""
    import pstats
    from io import StringIO

    bucket = "bench-profile"
    reset_moto(bench.moto)
    bench.admin.create_bucket(Bucket=bucket)
    report = StringIO()
    for phase in ("cold", "re-run"):
        path = scratch / f"ours-{phase.replace('-', '')}.prof"
        command, env = bench.command("ours", bucket)
        subprocess.run(
            command,
            env={**env, "BENCH_PROFILE": str(path)},
            check=True,
            text=True,
            capture_output=True,
        )
        print(f"\ncProfile of our create_all, {phase}:", file=report)
        stats = pstats.Stats(str(path), stream=report)
        stats.sort_stats("cumulative").print_stats(r"flask_s3[/\\]", 25)
    return report.getvalue()


def admin_client(moto: str) -> Any:
    """A client straight to moto, for set-up and checks outside the timings."""
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=moto,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


# --- peak memory of one big asset ----------------------------------------------------


def big_file_rss(env: dict[str, str], moto: str, scratch: Path) -> dict[str, Any]:
    """Our create_all on one 512 MiB random asset, straight to moto."""
    static = scratch / "big" / "static"
    static.mkdir(parents=True)
    path = static / "big.bin"
    started = time.perf_counter()
    try:
        with path.open("wb") as stream:
            for _ in range(BIG_FILE // (1 << 20)):
                stream.write(os.urandom(1 << 20))
        written = time.perf_counter()
        reset_moto(moto)
        done = subprocess.run(
            [sys.executable, "-s", str(CHILD), "ours", str(static), "bench-big", moto],
            env={**env, "PYTHONPATH": str(REPO / "src")},
            capture_output=True,
            text=True,
            check=False,
        )
        uploaded = time.perf_counter()
    finally:
        path.unlink(missing_ok=True)
        reset_moto(moto)
    if done.returncode != 0:
        raise SystemExit(f"the 512 MiB upload failed:\n{done.stderr}")
    report: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    expect(
        report["uploaded"] == 1 and report["bytes_uploaded"] == BIG_FILE,
        f"the 512 MiB upload reported {report}",
    )
    report["write_seconds"] = written - started
    report["wall_seconds"] = uploaded - written
    return report


# --- report ---------------------------------------------------------------------------


def median(runs: list[Run], pick: Callable[[Run], float | None]) -> float | None:
    values = [value for value in map(pick, runs) if value is not None]
    return statistics.median(values) if values else None


def seconds(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def print_report(bench: Bench, repeats: int) -> list[bool]:
    print(
        f"\nSeconds, median of {repeats} runs. wall = the whole subprocess, "
        "interpreter start-up and imports included\n(every contender pays them); "
        "in-proc = create_all / the upload loop alone, as the child timed it."
    )
    print(
        f"  {'contender':<17} {'cold wall':>10} {'in-proc':>8}   "
        f"{'re-run wall':>11} {'in-proc':>8}   cold runs / re-run runs"
    )
    for contender in CONTENDERS:
        cold = bench.runs[(contender, "cold")]
        rerun = bench.runs.get((contender, "re-run"), [])
        spread = " ".join(f"{run.wall:.2f}" for run in cold)
        spread += " / " + (" ".join(f"{run.wall:.2f}" for run in rerun) or "n/a")
        print(
            f"  {contender:<17} {seconds(median(cold, lambda r: r.wall)):>10} "
            f"{seconds(median(cold, lambda r: r.inside)):>8}   "
            f"{seconds(median(rerun, lambda r: r.wall)):>11} "
            f"{seconds(median(rerun, lambda r: r.inside)):>8}   {spread}"
        )
    print(f"  {'':<17} (plain loop: no skip logic, so no re-run)")

    def wall(contender: str, phase: str) -> float:
        value = median(bench.runs[(contender, phase)], lambda r: r.wall)
        assert value is not None
        return value

    ours_cold, ours_rerun = wall("ours", "cold"), wall("ours", "re-run")
    goals = [
        (
            "cold: ours / aws s3 sync",
            ours_cold / wall("aws s3 sync", "cold"),
            f"<= {MAX_RATIO_VS_SYNC:.2f}",
            ours_cold / wall("aws s3 sync", "cold") <= MAX_RATIO_VS_SYNC,
        ),
        (
            "cold: ours / plain boto3 x16",
            ours_cold / wall("plain boto3 x16", "cold"),
            f"<= {MAX_RATIO_VS_PLAIN:.2f}",
            ours_cold / wall("plain boto3 x16", "cold") <= MAX_RATIO_VS_PLAIN,
        ),
        (
            "cold: 0.3.3 / ours",
            wall("0.3.3", "cold") / ours_cold,
            f">= {MIN_SPEEDUP_VS_033:.2f}",
            wall("0.3.3", "cold") / ours_cold >= MIN_SPEEDUP_VS_033,
        ),
        (
            "re-run: ours / aws s3 sync",
            ours_rerun / wall("aws s3 sync", "re-run"),
            f"<= {MAX_RATIO_VS_SYNC:.2f}",
            ours_rerun / wall("aws s3 sync", "re-run") <= MAX_RATIO_VS_SYNC,
        ),
    ]
    print("\nGoals, on the median wall-clock times")
    for label, ratio, goal, passed in goals:
        print(f"  {label:<30} {ratio:6.2f}x  {goal:<8} {'PASS' if passed else 'MISS'}")
    print(
        f"  (for scale, not a goal: 0.3.3 / plain boto3 x16 = "
        f"{wall('0.3.3', 'cold') / wall('plain boto3 x16', 'cold'):.2f}x)"
    )

    print(
        "\nRequests through the proxy in the median run of each, with the times "
        "their heads\narrived, in seconds since the process was started"
    )
    for contender in CONTENDERS:
        for phase in ("cold", "re-run"):
            runs = bench.runs.get((contender, phase))
            if not runs:
                continue
            run = sorted(runs, key=lambda r: r.wall)[len(runs) // 2]
            traffic = run.traffic
            kinds = ", ".join(
                f"{count} {kind}" for kind, count in sorted(traffic.requests.items())
            )
            lost = (
                f" ({traffic.unparsed_connections} chunked, not counted further)"
                if traffic.unparsed_connections
                else ""
            )
            print(
                f"  {contender:<17} {phase:<7} {traffic.connections:>3} connections, "
                f"{traffic.total:>3} requests: {kinds}{lost}"
            )
            if traffic.asset_puts:
                print(
                    f"  {'':<25} first asset PUT at {traffic.asset_puts[0]:.3f}, last "
                    f"at {traffic.asset_puts[-1]:.3f}, process done at {run.wall:.3f}"
                )
            before, after = traffic.around_assets()
            label = "before the first asset PUT" if traffic.asset_puts else "at"
            if before:
                print(f"  {'':<25} {label}: {', '.join(before)}")
            if after:
                print(f"  {'':<25} after the last: {', '.join(after)}")
    print_cpu(bench)
    return [passed for *_, passed in goals]


def cpu_of(name: str, run: Run) -> float | None:
    return run.cpu[name]


def print_cpu(bench: Bench) -> None:
    """Who was busy: on a few cores, moto and the proxy compete with the
    contender, and a run that used them all was not waiting on the network."""
    cpus = os.cpu_count() or 1
    print(
        f"\nCPU seconds during the cold runs (medians), against wall x {cpus} CPUs; "
        "moto's comes from /proc"
    )
    print(
        f"  {'contender':<17} {'contender':>9} {'moto':>6} {'proxy':>6} "
        f"{'sum':>6}   {'wall x CPUs':>11}"
    )
    for contender in CONTENDERS:
        runs = bench.runs[(contender, "cold")]
        parts = {
            name: median(runs, partial(cpu_of, name))
            for name in ("contender", "moto", "proxy")
        }
        total = sum(value or 0.0 for value in parts.values())
        capacity = (median(runs, lambda r: r.wall) or 0.0) * cpus
        print(
            f"  {contender:<17} {seconds(parts['contender']):>9} "
            f"{seconds(parts['moto']):>6} {seconds(parts['proxy']):>6} "
            f"{total:6.2f}   {capacity:11.2f}"
        )


def print_rss(report: dict[str, Any]) -> bool:
    peak = float(report["peak_rss_kib"]) / 1024
    before = float(report["peak_rss_before_kib"]) / 1024
    passed = peak < MAX_PEAK_RSS_MIB
    print(
        "\nPeak RSS of our create_all uploading one 512 MiB random asset, straight "
        "to moto (no proxy)"
    )
    print(
        f"  peak RSS of the child {peak:7.1f} MiB  (after imports, before "
        f"create_all: {before:.1f} MiB)  goal < {MAX_PEAK_RSS_MIB} MiB  "
        f"{'PASS' if passed else 'MISS'}"
    )
    print(
        f"  ru_maxrss of the uploading process only; the moto server's RSS is NOT "
        f"included. Upload took {report['wall_seconds']:.1f} s wall "
        f"(create_all {report['create_all_seconds']:.1f} s); writing the file "
        f"{report['write_seconds']:.1f} s"
    )
    return passed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3, metavar="N")
    parser.add_argument("--skip-rss", action="store_true")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also print a cProfile of our cold run and re-run (not timed)",
    )
    options = parser.parse_args()
    if options.repeats < 1:
        parser.error("--repeats must be at least 1")
    peer_python = ensure_peer()
    aws = ensure_awscli()
    load = os.getloadavg()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="flask-s3-bench-") as tmp:
        scratch = Path(tmp)
        env = isolated_env(scratch)
        # boto3 in this process (the admin client) must not read ~/.aws either.
        os.environ.clear()
        os.environ.update(env)
        static = scratch / "app" / "static"
        write_static_tree(static)
        with moto_server(env) as (moto, moto_pid):
            upstream_port = urlsplit(moto).port
            assert upstream_port is not None
            proxy = LatencyProxy(upstream_port, ONE_WAY_DELAY)
            with proxy as proxy_url:
                bench = Bench(
                    env,
                    moto,
                    moto_pid,
                    proxy_url,
                    proxy,
                    static,
                    peer_python,
                    aws,
                    admin_client(moto),
                )
                order = list(CONTENDERS)
                for round_number in range(options.repeats):
                    for contender in order:
                        bench.measure(contender, round_number)
                    order.append(order.pop(0))
                timed = time.perf_counter() - started
                profile = profile_ours(bench, scratch) if options.profile else ""
            rss = None if options.skip_rss else big_file_rss(env, moto, scratch)

    versions = bench.peer_versions
    print("flask_s3.create_all upload benchmark")
    print(
        f"  {FILES} files of {FILE_SIZE // 1024} KiB (.css/.js/.png, random bytes) "
        f"in 6 folders; moto S3 server in its own process behind a loopback proxy "
        f"adding {ONE_WAY_DELAY * 1000:.0f} ms each way\n"
        f"  ({2 * ONE_WAY_DELAY * 1000:.0f} ms per request, twice that for a PUT "
        "with Expect: 100-continue; connecting is free, as\n  with keep-alive); "
        "a fresh bucket for every cold run, created beforehand for all; "
        f"{os.cpu_count()} CPUs shared by moto,\n  the proxy and the contender. "
        "Every contender is a subprocess: start-up is part of its cost."
    )
    print(
        f"  load average before the runs: {load[0]:.2f} (other work on the machine "
        "skews the figures)"
    )
    print(f"  ours : src/flask_s3 at {checkout(REPO)}, Python {sys.version.split()[0]}")
    print(
        f"  0.3.3: Flask-S3 {versions.get('flask-s3')} in "
        f"{PEER_VENV.relative_to(REPO)} (boto3 {versions.get('boto3')}, endpoint "
        "from AWS_ENDPOINT_URL_S3), sequential put_object"
    )
    print(
        f"  aws  : awscli {version_in(venv_python(AWSCLI_VENV), 'awscli')} in "
        f"{AWSCLI_VENV.relative_to(REPO)}, `aws s3 sync` with its default 10 threads"
    )
    print(
        "  plain: boto3 put_object of each file's bytes, ThreadPoolExecutor(16), "
        "one client with max_pool_connections=16"
    )
    results = print_report(bench, options.repeats)
    print(
        f"\nTimed runs took {timed:.0f} s; load average after them: "
        f"{os.getloadavg()[0]:.2f}."
    )
    if rss is not None:
        results.append(print_rss(rss))
    print(profile, end="")
    missed = results.count(False)
    print(f"\n{len(results) - missed}/{len(results)} goals met")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
