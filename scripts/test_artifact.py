#!/usr/bin/env python3
"""Checks the file that deploys: the arm64 zip `make build` produces (what
`sam build` unpacks into .aws-sam/build/VerifyFunction).

    test_artifact.py --zip target/lambda/bootstrap/bootstrap.zip   (make test-artifact)
    test_artifact.py --self-test                                    (broken builds must fail)

1. The zip holds one executable `bootstrap`: an aarch64 ELF (little-endian,
   64-bit) for the Linux loader /lib/ld-linux-aarch64.so.1.
2. No glibc symbol version newer than Amazon Linux 2023's (2.34, readelf);
   the message names the symbols that need more.
3. Run under qemu-aarch64 (Debian's qemu-user, libc6-arm64-cross) with the
   stand-in Runtime API (scripts/runtime_api.py), against the local engine
   on production's key paths (the caller, scripts/test_artifact.sh, starts
   them: the session secret in the engine's Secrets Manager, the access keys
   from a JWKS URL), all of it over HTTPS as in production (the engine and
   the issuer behind TLS with the test CA, tests/fixtures/tls): the
   read-only checks of hooks/checks.py answer right, a decision with valid
   tokens answers 200 after the endpoint closed the idle connection, its
   reconnect resumes the TLS session, and the item read back from the table
   carries it.
4. The functions a warm invocation runs sit together in `.text.hot`
   (build.rs, link/hot-functions.ld).
A cold start under emulation is reported, never judged.
Exits 1 with a line saying what is wrong.
"""
import argparse
import json
import os
import re
import shutil
import stat
import struct
import subprocess
import sys
import tempfile
import zipfile
from urllib.parse import urlsplit

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, os.path.join(ROOT, "hooks"))
import checks  # noqa: E402
from tls_proxy import start_tls_proxy  # noqa: E402

# Amazon Linux 2023, the provided.al2023 runtime.
MAX_GLIBC = (2, 34)
EM_AARCH64 = 183
LOADER = "/lib/ld-linux-aarch64.so.1"
SYSROOT = "/usr/aarch64-linux-gnu"
QEMU = f"qemu-aarch64 -L {SYSROOT}"
DECIDED_ID = 4  # status 3 (to verify), organisation 1, in dev/seed.json
NOTIFICATION = "notification-12345"  # user 42's
TLS = os.path.join(ROOT, "tests", "fixtures", "tls")
# The AWS stand-in closes connections idle this long; the decision comes
# after a longer pause, so it reconnects.
IDLE_CLOSE_S = 1.0
PAUSE_S = 2.5


class Refused(Exception):
    """The artifact must not deploy; the message says why."""


def unpack(zip_path, into):
    try:
        z = zipfile.ZipFile(zip_path)
    except (OSError, zipfile.BadZipFile) as e:
        raise Refused(f"{zip_path}: not a readable zip ({e})")
    names = z.namelist()
    if names != ["bootstrap"]:
        raise Refused(f"the zip must hold exactly one file, bootstrap; it holds {names}")
    info = z.getinfo("bootstrap")
    if not (info.external_attr >> 16) & stat.S_IXUSR:
        raise Refused("bootstrap is not executable in the zip (Lambda would fail with permission denied)")
    path = z.extract("bootstrap", into)
    os.chmod(path, 0o755)
    return path, os.path.getsize(zip_path), info.file_size


def check_elf(path):
    with open(path, "rb") as f:
        head = f.read(20)
    if head[:4] != b"\x7fELF":
        raise Refused(f"bootstrap is not an ELF executable (starts {head[:4]!r})")
    if head[4] != 2 or head[5] != 1:
        raise Refused("bootstrap is not a 64-bit little-endian ELF")
    machine = struct.unpack_from("<H", head, 18)[0]
    if machine != EM_AARCH64:
        names = {62: "x86-64", 3: "i386", 40: "arm"}
        raise Refused(f"bootstrap is built for {names.get(machine, machine)}, not aarch64 (Architectures: [arm64])")
    program = subprocess.run(["readelf", "-W", "-l", path], capture_output=True, text=True, check=True).stdout
    loader = re.search(r"Requesting program interpreter: ([^\]]+)\]", program)
    if loader is None or loader.group(1) != LOADER:
        raise Refused(f"bootstrap asks for loader {loader.group(1) if loader else None!r}, not {LOADER}")


def check_glibc(path):
    """The newest glibc version bootstrap needs, after refusing any above MAX_GLIBC."""
    syms = subprocess.run(["readelf", "-W", "--dyn-syms", path], capture_output=True, text=True, check=True).stdout
    needed = {}
    for sym, major, minor in re.findall(r"\s(\S+)@GLIBC_(\d+)\.(\d+)", syms):
        needed.setdefault((int(major), int(minor)), set()).add(sym)
    if not needed:
        raise Refused("bootstrap needs no versioned glibc symbol: not the dynamically linked build expected")
    too_new = {v: s for v, s in needed.items() if v > MAX_GLIBC}
    if too_new:
        detail = "; ".join(f"GLIBC_{v[0]}.{v[1]}: {', '.join(sorted(s))}" for v, s in sorted(too_new.items()))
        raise Refused(f"bootstrap needs glibc newer than Amazon Linux 2023's "
                      f"{MAX_GLIBC[0]}.{MAX_GLIBC[1]} ({detail}): it would fail at init in Lambda")
    return max(needed)


def decision_event(access, session):
    check = checks.Check("decision", "PATCH", {
        "Authorization": f"Bearer {access}", "x-session-token": session,
        "Content-Type": "application/json", "Origin": os.environ["ALLOWED_ORIGINS"].split(",")[0]},
        json.dumps({"decision": 1, "decisionComment": "checked on the arm64 artifact",
                    "notificationId": NOTIFICATION}), None, intervention_id=str(DECIDED_ID))
    return checks.proxy_event(check, "artifact-decision")


def https_in_front(stats):
    """The local stack behind TLS, as `--env` settings for the function: the
    engine (DynamoDB and Secrets Manager) closing idle connections, counting
    handshakes in `stats`, and the issuer's JWKS; the test CA trusted
    through SSL_CERT_FILE. The shipped binary's TLS (rustls on aws-lc's
    aarch64 code) is then what every call goes through."""
    cert, key = os.path.join(TLS, "localhost.pem"), os.path.join(TLS, "localhost.key")
    engine = urlsplit(os.environ["AWS_ENDPOINT_URL_DYNAMODB"])
    issuer = urlsplit(os.environ["ACCESS_TOKEN_JWKS_URL"])
    aws = f"https://localhost:{start_tls_proxy(cert, key, engine.port, IDLE_CLOSE_S, stats)}"
    jwks = f"https://localhost:{start_tls_proxy(cert, key, issuer.port)}{issuer.path}"
    return [f"AWS_ENDPOINT_URL_DYNAMODB={aws}", f"AWS_ENDPOINT_URL_SECRETS_MANAGER={aws}",
            f"ACCESS_TOKEN_JWKS_URL={jwks}", f"SSL_CERT_FILE={os.path.join(TLS, 'ca.pem')}"]


def run(binary, work):
    origin = os.environ["ALLOWED_ORIGINS"].split(",")[0]
    probes = [c for c in checks.checks(origin) if not c.gateway_only]
    events = [checks.proxy_event(c, f"artifact-{n}") for n, c in enumerate(probes)]
    events.append(decision_event(os.environ["ACCESS_TOKEN"], os.environ["SESSION_TOKEN"]))
    events_path = os.path.join(work, "events.jsonl")
    with open(events_path, "w") as f:
        f.writelines(json.dumps(e) + "\n" for e in events)
    log = os.path.join(work, "function.log")
    tls = {}
    env = ["AWS_LAMBDA_FUNCTION_NAME=artifact-verify"] + https_in_front(tls)
    out = subprocess.run(
        [sys.executable, os.path.join(ROOT, "scripts", "runtime_api.py"), "--binary", binary,
         "--wrapper", QEMU, "--events", events_path, "--stdout", log, "--timeout", "120",
         "--pause-before", f"{len(events)}={PAUSE_S}"] + [a for kv in env for a in ("--env", kv)],
        capture_output=True, text=True, check=False)
    if out.returncode != 0:
        with open(log, errors="replace") as f:
            tail = f.read()[-1500:]
        raise Refused(f"under qemu-aarch64: {out.stderr.strip()[-500:]}\n--- its output (tail)\n{tail}")
    report = json.loads(out.stdout)
    answers = report["invocations"]
    failures = []
    for check, answer in zip(probes, answers):
        detail = checks.judge_proxy_response(check, answer["response"])
        print(f"{'ok  ' if detail is None else 'FAIL'} {check.name}{'' if detail is None else ' — ' + detail}")
        if detail:
            failures.append(check.name)
    decided = answers[len(probes)]
    record = (json.loads(decided["body"] or "{}") or {}).get("data") or {}
    ok = decided["statusCode"] == 200 and record.get("status") == 4 and record.get("verifiedByUserId") == 42
    print(f"{'ok  ' if ok else 'FAIL'} a decision with valid tokens -> 200, status 4, verified by 42"
          + ("" if ok else f" (got {decided['statusCode']}, {str(decided['body'])[:200]})"))
    if not ok:
        failures.append("decision")
    # The warm-up's and the secret's handshakes at start-up are full; the
    # decision's, after the idle close, must resume a session.
    handshakes, resumed = tls.get("handshakes", 0), tls.get("resumed", 0)
    ok = handshakes >= 2 and resumed >= 1
    print(f"{'ok  ' if ok else 'FAIL'} HTTPS to the AWS stand-in: {handshakes} handshakes, {resumed} resumed "
          f"(the decision's, after the endpoint closed the idle connection)")
    if not ok:
        failures.append("tls")
    return report, failures


def read_back():
    import boto3  # .venv (moto's dependency)

    db = boto3.client("dynamodb", endpoint_url=os.environ["AWS_ENDPOINT_URL_DYNAMODB"],
                      region_name=os.environ.get("AWS_REGION", "eu-west-3"))
    item = db.get_item(TableName=os.environ["INTERVENTIONS_TABLE"], Key={"id": {"N": str(DECIDED_ID)}})["Item"]
    note = db.get_item(TableName=os.environ["NOTIFICATIONS_TABLE"], Key={"id": {"S": NOTIFICATION}})["Item"]
    history = item.get("verificationHistory", {}).get("L", [])
    ok = (item["status"]["N"] == "4" and item.get("verifiedByUserId", {}).get("N") == "42"
          and len(history) == 1 and history[0]["M"]["decision"]["N"] == "1" and "readAt" in note)
    print(f"{'ok  ' if ok else 'FAIL'} read back from the table: status {item['status']['N']}, "
          f"verifiedByUserId {item.get('verifiedByUserId', {}).get('N')}, {len(history)} history entry, "
          f"notification read: {'readAt' in note}")
    return ok


def hot_text_bytes(path):
    """The size of the section build.rs's linker script puts the hot functions in (0: none)."""
    sections = subprocess.run(["readelf", "-W", "-S", path], capture_output=True, text=True, check=True).stdout
    m = re.search(r"\s\.text\.hot\s+PROGBITS\s+[0-9a-f]+\s+[0-9a-f]+\s+([0-9a-f]+)", sections)
    return int(m.group(1), 16) if m else 0


def check_artifact(zip_path, run_it=True):
    work = tempfile.mkdtemp(prefix="artifact-")
    try:
        binary, zip_bytes, binary_bytes = unpack(zip_path, work)
        check_elf(binary)
        glibc = check_glibc(binary)
        print(f"ok   {zip_path}: aarch64 ELF for {LOADER}, newest glibc symbol GLIBC_{glibc[0]}.{glibc[1]} "
              f"(at most {MAX_GLIBC[0]}.{MAX_GLIBC[1]})")
        print(f"size: zip {zip_bytes} bytes, bootstrap {binary_bytes} bytes")
        if not run_it:
            return
        report, failures = run(binary, work)
        print(f"cold start under qemu-aarch64 (emulated, not a benchmark): init {report['init_ms']:.0f} ms, "
              f"first invocation {report['invocations'][0]['ms']:.0f} ms")
        if failures:
            raise Refused(f"under qemu-aarch64, failed: {', '.join(failures)}")
        if not read_back():
            raise Refused("the decision did not reach the table")
        hot = hot_text_bytes(binary)
        if not hot:
            raise Refused("bootstrap has no .text.hot section: the layout of build.rs and "
                          "link/hot-functions.ld did not reach the link")
        print(f"ok   the functions a warm invocation runs laid out together: .text.hot, {hot} bytes")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def zig_build(source, target, work, name):
    """A tiny aarch64 program, cross-compiled with the zig cargo-lambda uses."""
    c = os.path.join(work, f"{name}.c")
    with open(c, "w") as f:
        f.write(source)
    binary = os.path.join(work, "bootstrap")
    subprocess.run([sys.executable, "-m", "ziglang", "cc", "-target", target, "-o", binary, c], check=True)
    zip_path = os.path.join(work, f"{name}.zip")
    with zipfile.ZipFile(zip_path, "w") as z:
        info = zipfile.ZipInfo("bootstrap")
        info.external_attr = 0o755 << 16
        with open(binary, "rb") as f:
            z.writestr(info, f.read())
    os.remove(binary)
    return zip_path


def self_test():
    """Deliberately broken arm64 builds: each must be refused, for its reason."""
    work = tempfile.mkdtemp(prefix="artifact-self-test-")
    cases = [
        ("needs glibc 2.38", zig_build(
            "#include <string.h>\nint main(int c, char **v) { char b[8]; strlcpy(b, v[0], sizeof b); return b[0] == 0; }\n",
            "aarch64-linux-gnu.2.38", work, "new-glibc"), "GLIBC_2.38: strlcpy", True),
        ("exits at start-up", zig_build(
            "int main(void) { return 3; }\n", "aarch64-linux-gnu.2.17", work, "exits"),
         "exited with 3 before asking for an event", True),
        ("is for x86-64", None, "built for x86-64, not aarch64", False),
    ]
    host = os.path.join(work, "host.zip")
    with zipfile.ZipFile(host, "w") as z:
        info = zipfile.ZipInfo("bootstrap")
        info.external_attr = 0o755 << 16
        with open(shutil.which("true"), "rb") as f:
            z.writestr(info, f.read())
    failed = 0
    for name, zip_path, expected, run_it in cases:
        try:
            check_artifact(zip_path or host, run_it=run_it)
            message = "accepted"
        except Refused as e:
            message = str(e)
        ok = expected in message
        failed += not ok
        print(f"{'ok  ' if ok else 'FAIL'} self-test, a build that {name}: refused with "
              f"{message.splitlines()[0][:240]!r}")
    shutil.rmtree(work, ignore_errors=True)
    return failed


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--zip")
    ap.add_argument("--self-test", action="store_true")
    args = ap.parse_args()
    if shutil.which("qemu-aarch64") is None or not os.path.exists(os.path.join(SYSROOT, LOADER.lstrip("/"))):
        sys.exit("needs qemu-aarch64 and the aarch64 glibc: apt-get install qemu-user libc6-arm64-cross (make artifact-deps)")
    if args.self_test:
        failed = self_test()
        print(f"artifact self-test: {3 - failed} passed, {failed} failed")
        return 1 if failed else 0
    if not args.zip:
        ap.error("give --zip or --self-test")
    try:
        check_artifact(args.zip)
    except Refused as e:
        print(f"FAIL the artifact must not deploy: {e}")
        return 1
    print("artifact: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
