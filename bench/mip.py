"""`mptui mip install` against `mpremote mip install` on the same link: one `mptui bridge`
(socket://), a package index served here on 127.0.0.1 (a package of FILES Python files and a
dependency, micropython-lib's layout), both CLIs run side by side, alternating; medians and
ratios. Figures are whole processes, as a user runs them: a fresh install (the board's /lib
removed first) and a reinstall (every file already there: both skip by hash).

    python bench/mip.py [--rounds 3] [--files 10] [--size 4096] [--link uart:115200]
"""

from __future__ import annotations

import argparse
import hashlib
import http.server
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import _venv  # noqa: F401  (started with another Python: runs again in the .venv)
from engine import python_source, start_bridge


def serve_index(files: int, size: int) -> tuple[http.server.ThreadingHTTPServer, str]:
    """An index with `bench` (files x size bytes of source) depending on `benchdep`."""
    content: dict[str, bytes] = {}

    def add(data: bytes) -> str:
        short = hashlib.sha256(data).hexdigest()[:8]
        content[f"/file/{short[:2]}/{short}"] = data
        return short

    bench = [[f"bench/m{i}.py", add(python_source(size) + f"# {i}\n".encode())]
             for i in range(files)]
    content["/package/py/bench/latest.json"] = json.dumps(
        {"hashes": bench, "deps": [["benchdep", "latest"]]}).encode()
    content["/package/py/benchdep/latest.json"] = json.dumps(
        {"hashes": [["benchdep.py", add(b"DEP = 1\n")]]}).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = content.get(self.path)
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}"


def timed(argv: list[str]) -> float:
    t = time.perf_counter()
    r = subprocess.run(argv, capture_output=True, check=False)
    elapsed = time.perf_counter() - t
    if r.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed: {r.stderr.decode()[-500:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--files", type=int, default=10)
    parser.add_argument("--size", type=int, default=4096, help="bytes per file")
    parser.add_argument("--link", default="", help="a link profile for the bridge's board")
    args = parser.parse_args()
    mpremote = shutil.which("mpremote", path=str(Path(sys.executable).parent))
    server, index = serve_index(args.files, args.size)
    root = Path(tempfile.mkdtemp(prefix="mptui-bench-mip-"))
    bridge, url = start_bridge(root, *(["--link", args.link] if args.link else []))
    tools = {
        "mptui": [sys.executable, "-m", "mptui", "-d", url, "mip", "install", "--no-mpy",
                  "--index", index, "bench"],
        "mpremote": [mpremote, "connect", url, "mip", "install", "--no-mpy", "--index", index,
                     "bench"],
    }
    times: dict[tuple[str, str], list[float]] = {}
    try:
        for _ in range(args.rounds):
            for tool, argv in tools.items():
                shutil.rmtree(root / "lib", ignore_errors=True)
                times.setdefault((tool, "fresh"), []).append(timed(argv))
                times.setdefault((tool, "again"), []).append(timed(argv))
                assert len(list((root / "lib" / "bench").iterdir())) == args.files
    finally:
        bridge.terminate()
        bridge.wait()
        server.shutdown()
        shutil.rmtree(root, ignore_errors=True)
    total = args.files * args.size
    print(f"mip install: {args.files} files of {args.size} B (+1 dep), {total / 1024:.0f} KiB; "
          f"link {args.link or 'fast'}; median of {args.rounds}")
    for case in ("fresh", "again"):
        a = statistics.median(times[("mptui", case)])
        b = statistics.median(times[("mpremote", case)])
        print(f"  {case:<6} mptui {a:6.2f} s   mpremote {b:6.2f} s   mpremote/mptui {b / a:5.1f}x")


if __name__ == "__main__":
    main()
