#!/usr/bin/env python3
"""The browser test: headless Chromium (Debian's package) loads app.html from
two allowed loopback origins and one disallowed one, and the page runs the web
app's flow with fetch() against the function under `cargo lambda watch
--disable-cors` (started by scripts/live_checks.sh, which also chose the
ports and set ALLOWED_ORIGINS to the first two origins).

What must hold, from each allowed origin: the preflight passes and the PATCH
answers 200 with JSON the page can read; a forged token answers 401 whose
WWW-Authenticate the page can read; a second decision answers 409 whose
problem+json the page can read. From the disallowed origin, fetch rejects.
Prints one line per check and a closing "N passed, N failed".
"""
import argparse
import functools
import http.server
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-quic", "--virtual-time-budget=30000",
]


class QuietPages(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # the URLs carry the test tokens
        pass


def serve_pages(port):
    handler = functools.partial(QuietPages, directory=HERE)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def run_page(origin, query):
    """Loads the page in a fresh headless Chromium; the results it wrote."""
    url = f"{origin}/app.html?{urllib.parse.urlencode(query)}"
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        out = subprocess.run(
            ["chromium", *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--dump-dom", url],
            capture_output=True, text=True, timeout=120,
        )
    m = re.search(r'<pre id="results">(.*?)</pre>', out.stdout, re.S)
    if not m or m.group(1) == "pending":
        raise RuntimeError(f"the page wrote no results from {origin}:\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}")
    text = m.group(1).replace("&quot;", '"').replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return {r["name"]: r for r in json.loads(text)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--api", required=True)
    ap.add_argument("--access", required=True)
    ap.add_argument("--session", required=True)
    ap.add_argument("--allowed-ports", type=int, nargs=2, required=True)
    ap.add_argument("--denied-port", type=int, required=True)
    ap.add_argument("--function-log", required=True)
    args = ap.parse_args()

    passed, failed = 0, 0

    def check(what, ok, detail=""):
        nonlocal passed, failed
        print(f"{'ok  ' if ok else 'FAIL'} {what}{'' if ok else ': ' + detail}")
        passed, failed = passed + ok, failed + (not ok)

    a, b = args.allowed_ports
    for port in (a, b, args.denied_port):
        serve_pages(port)
    started = time.monotonic()
    tokens = {"api": args.api, "access": args.access, "session": args.session}
    # Seeded interventions 3 and 4 await verification (dev/seed.json).
    for origin, intervention in ((f"http://127.0.0.1:{a}", 3), (f"http://localhost:{b}", 4)):
        r = run_page(origin, dict(tokens, id=intervention))
        accept, forged, conflict = r["accept"], r["forged"], r["conflict"]
        check(f"{origin}: preflight + PATCH with both tokens -> 200, JSON readable",
              accept.get("status") == 200 and (accept.get("body") or {}).get("data", {}).get("status") == 4
              and accept["body"]["data"].get("id") == intervention, json.dumps(accept))
        check(f"{origin}: forged token -> 401, WWW-Authenticate readable",
              forged.get("status") == 401 and 'error="invalid_token"' in (forged.get("wwwAuthenticate") or "")
              and (forged.get("body") or {}).get("code") == "invalid_access_token", json.dumps(forged))
        check(f"{origin}: second decision -> 409, problem+json readable",
              conflict.get("status") == 409 and conflict.get("contentType") == "application/problem+json"
              and (conflict.get("body") or {}).get("code") == "already_verified", json.dumps(conflict))

    denied = f"http://127.0.0.1:{args.denied_port}"
    r = run_page(denied, dict(tokens, id=3))
    check(f"{denied} (not allowed): every fetch rejects",
          all("error" in x and "status" not in x for x in r.values()), json.dumps(r))

    # The function, not a proxy, answered the preflights.
    with open(args.function_log, errors="replace") as f:
        log = f.read()
    allowed_preflights = log.count('"outcome":"preflight_allowed"')
    refused_preflights = log.count('"outcome":"preflight_refused"')
    check("the function answered each allowed origin's preflight", allowed_preflights >= 2,
          f"{allowed_preflights} preflight_allowed lines")
    check("the function refused the disallowed origin's preflight", refused_preflights >= 1,
          f"{refused_preflights} preflight_refused lines")
    print(f"browser checks took {time.monotonic() - started:.1f} s")
    print(f"browser: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
