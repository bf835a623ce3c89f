"""Benchmark what a serving process pays for the extension: an app that
renders a page of 200 static links, with ``FlaskS3(app)``, with Flask-S3
0.3.3's, and with neither.

A web worker only builds URLs; it must not import boto3 (the upload's
machinery) or pay for it in start-up time and memory, in every worker of
every deploy. Each contender is a process of its own, started fresh (so its
imports count), by a small launcher so that its peak RSS is its own; the
figures are its user + system CPU and its peak RSS, medians over interleaved
rounds, each against plain Flask in the same interpreter and venv. 0.3.3 runs
in its own venv (bench/_peers.py), with plain Flask measured there too.

Run from the repository root with ``python bench/serving.py``; it uses src/
of this checkout and exits with 1 when the goal (no boto module in our
serving process) is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

from _common import REPO, expect
from _launcher import Launcher
from _peers import PEER_VENV, ensure_peer
from _provenance import checkout

CHILD = Path(__file__).resolve().parent / "_serving_child.py"
ROUNDS = 15
CONTENDERS = ("plain", "ours", "plain (0.3.3's venv)", "0.3.3")
BASELINE = {"ours": "plain", "0.3.3": "plain (0.3.3's venv)"}
"""Each extension against plain Flask in its own interpreter and venv."""


def command(
    contender: str, root: Path, env: dict[str, str], peer: Path
) -> tuple[list[str], dict[str, str]]:
    """Ours (and its plain Flask) under this interpreter with src/ first on
    the path; 0.3.3 (and its plain Flask) under its venv's, without it."""
    name = contender.split()[0]
    if contender in ("plain", "ours"):
        env = {**env, "PYTHONPATH": str(REPO / "src")}
        return [sys.executable, "-s", str(CHILD), name, str(root)], env
    return [str(peer), "-E", "-s", str(CHILD), name, str(root)], env


def checked(contender: str, report: dict[str, Any]) -> None:
    """Refuse a figure of a process that did not do what it is named after."""
    links = report["s3_links"]
    if contender in BASELINE:
        module = Path(str(report["module"])).resolve()
        home = REPO / "src" if contender == "ours" else PEER_VENV
        expect(module.is_relative_to(home), f"{contender} imported {module}")
        expect(links == 200, f"{contender}: {links} of 200 links on S3")
    else:
        expect(report["module"] is None and links == 0, f"{contender}: {report}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=ROUNDS, metavar="N")
    options = parser.parse_args()
    if options.rounds < 1:
        parser.error("--rounds must be at least 1")
    launcher = Launcher()
    peer = ensure_peer()
    load = os.getloadavg()
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("PYTHON", "AWS_"))
    }
    cpu: dict[str, list[float]] = {name: [] for name in CONTENDERS}
    rss: dict[str, list[float]] = {name: [] for name in CONTENDERS}
    reports: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="flask-s3-bench-") as tmp:
        root = Path(tmp)
        (root / "static" / "img").mkdir(parents=True)
        for index in range(200):
            (root / "static" / "img" / f"{index}.png").write_bytes(b"\x89PNG")
        order = list(CONTENDERS)
        for _ in range(options.rounds):
            for contender in order:
                answer, out, err = launcher.run(
                    *command(contender, root, env, peer), root
                )
                expect(answer["returncode"] == 0, f"{contender} failed:\n{err}")
                report = json.loads(out.strip().splitlines()[-1])
                checked(contender, report)
                reports[contender] = report
                cpu[contender].append(answer["cpu"] * 1000)
                rss[contender].append(answer["peak_rss_kib"] / 1024)
            order.append(order.pop(0))
    launcher.close()

    print("Serving-process benchmark")
    print(
        "  a fresh process builds a Flask app, adds the extension (or none) and "
        "renders 200 static links once;\n  CPU = its user + system time, start-up "
        "and imports included; peak RSS = its ru_maxrss;\n  medians of "
        f"{options.rounds} interleaved rounds. {os.cpu_count()} CPUs; load average "
        f"before: {load[0]:.2f}, after: {os.getloadavg()[0]:.2f}"
    )
    print(f"  ours : src/flask_s3 at {checkout(REPO)}, Python {sys.version.split()[0]}")
    print(f"  0.3.3: Flask-S3 0.3.3 in {PEER_VENV.relative_to(REPO)}")
    print(
        f"\n  {'contender':<21} {'Flask':>6} {'CPU ms':>7} {'peak RSS MiB':>13} "
        f"{'+CPU ms':>8} {'+MiB':>6}  boto modules loaded"
    )
    medians = {
        name: (statistics.median(cpu[name]), statistics.median(rss[name]))
        for name in CONTENDERS
    }
    added = {
        name: (medians[name][0] - medians[base][0], medians[name][1] - medians[base][1])
        for name, base in BASELINE.items()
    }
    """CPU ms and MiB each extension adds to plain Flask in its own venv."""
    for name in CONTENDERS:
        ms, mib = medians[name]
        extra = (
            f"{added[name][0]:+8.0f} {added[name][1]:+6.1f}" if name in added else ""
        )
        boto = ", ".join(reports[name]["boto_modules"]) or "none"
        print(
            f"  {name:<21} {reports[name]['flask']:>6} {ms:7.0f} {mib:13.1f} "
            f"{extra:>15}  {boto}"
        )
    (cpu_ours, mib_ours), (cpu_033, mib_033) = added["ours"], added["0.3.3"]
    print(
        f"\n  what ours adds to a serving process: {cpu_ours / cpu_033:.2f}x the "
        f"CPU and {mib_ours / mib_033:.2f}x the memory that 0.3.3 adds"
    )
    ours_boto = reports["ours"]["boto_modules"]
    passed = not ours_boto
    print("\nGoal")
    print(
        "  our serving process loads no boto module: "
        + ("PASS" if passed else f"MISS ({', '.join(ours_boto)})")
    )
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
