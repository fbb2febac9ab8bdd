#!/usr/bin/env python3
"""Writes link/hot-functions.ld: the functions a warm invocation runs, as a
linker script that places them together before the rest of `.text`
(build.rs hands it to the linker for release builds on Linux).

    hot_functions.py --profiles DIR --binary SYMBOLISED_BOOTSTRAP --out link/hot-functions.ld

DIR is a `bench_lambda.py --counts-only` run's profiles (it prints
"profiles: DIR") of a release `bootstrap` built with its symbols kept
(`make hot-functions` does all of it). A function counts when it runs in
every warm invocation: its instructions run at least once more per extra
invocation, as the bench's code count reads them.

Each function is named by its section (`.text.<mangled name>`; rustc puts
every function in its own) with what changes between builds left open (the
legacy mangling's hash, a v0 name's crate disambiguators, LLVM's numbered
suffixes), so the list holds for the arm64 build, other flags and later
dependency versions alike. A name the build no longer has matches nothing:
a stale list costs only the layout, never the build.
"""
import argparse
import bisect
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_lambda import executed_per_address  # noqa: E402

# What differs between builds of the same function: the legacy mangling's
# hash, a v0 name's crate disambiguators, and the numbers LLVM appends to a
# local symbol's name.
HASH = re.compile(r"17h[0-9a-f]{16}E$")
CRATE = re.compile(r"Cs[0-9a-zA-Z]*_(?=\d)")
SUFFIX = re.compile(r"(\.llvm)?\.\d+$")
# How many functions must agree on an object's offset to place it.
MIN_AGREEING = 20
# nm -C keeps a legacy name's hash; callgrind's names drop it.
DEMANGLED_HASH = re.compile(r"::h[0-9a-f]{16}$")


def functions(binary):
    """[(start, size, mangled name)] of the binary's functions, by address,
    and {name: [starts]} under both their mangled and demangled names."""
    def listing(*flags):
        out = subprocess.run(["nm", "--defined-only", "-n", "-S", *flags, binary],
                             check=True, capture_output=True, text=True).stdout
        return [line.split(maxsplit=3) for line in out.splitlines()]
    rows, starts = [], {}
    for f, d in zip(listing(), listing("-C")):
        if len(f) == 4 and f[2] in "tTwW":
            start = int(f[0], 16)
            rows.append((start, int(f[1], 16), f[3]))
            for name in (f[3], DEMANGLED_HASH.sub("", d[3])):
                starts.setdefault(name, []).append(start)
    return rows, starts


def load_bias(lowest, obj, starts):
    """How far the profile's addresses of `obj` sit from the binary's own. A
    position-independent binary runs where valgrind loads it, and callgrind
    writes run-time addresses unless it read debug info: the difference most
    functions agree on, between the lowest address run in a function the
    profile names (`lowest`) and that function's start in the binary; None
    when they do not agree (the profile ran another build)."""
    votes = {}
    for (o, name), addr in lowest.items():
        found = starts.get(name, []) if o == obj else []
        if len(found) == 1:
            votes[addr - found[0]] = votes.get(addr - found[0], 0) + 1
    bias = max(votes, key=votes.get) if votes else None
    # Most functions agree when the profile ran this binary; another build
    # scatters them. A handful agreeing by chance (a library's `_start`
    # against the binary's) places nothing.
    agreed = votes[bias] if bias is not None else 0
    return bias if agreed >= max(MIN_AGREEING, 0.9 * sum(votes.values())) else None


def run_functions(counts, lowest, binary, profile):
    """{name: start} of the binary's functions with an instruction in
    `counts` ({(object, address): …}, read from `profile`). Each object of
    the profile is placed by its own load bias: valgrind may name the
    binary's code in two objects (one per executable section, `.text.hot`
    apart from `.text`), each at its own offset; libc and the loader agree
    with none."""
    fns, starts = functions(binary)
    first = [s for s, _, _ in fns]
    biases = {obj: load_bias(lowest, obj, starts) for obj in {o for o, _ in counts}}
    biases = {obj: b for obj, b in biases.items() if b is not None}
    if not biases:
        sys.exit(f"{profile}: its functions do not sit at one offset from those of {binary}: "
                 "profile the binary given (make hot-functions does both)")
    names = {}
    for obj, a in counts:
        if obj not in biases:
            continue
        a -= biases[obj]
        i = bisect.bisect_right(first, a) - 1
        if i >= 0 and a < fns[i][0] + max(fns[i][1], 1):
            names[fns[i][2]] = fns[i][0]
    return names


def hot_names(profiles, binary, few=10, many=60):
    """The functions a warm invocation runs, every one of them: at least
    once more per extra invocation. By address."""
    few_path = os.path.join(profiles, f"callgrind-bootstrap-{few}.out")
    many_path = os.path.join(profiles, f"callgrind-bootstrap-{many}.out")
    lowest = {}
    before, after = executed_per_address(few_path), executed_per_address(many_path, lowest)
    span = many - few
    per_warm = {k: n for k, n in after.items() if n - before.get(k, 0) >= span}
    hot = run_functions(per_warm, lowest, binary, many_path)
    return sorted(hot, key=hot.get)


def pattern(name):
    """The section of `name` in any build of the same code."""
    base = SUFFIX.sub("", name)
    base = CRATE.sub("Cs*_", HASH.sub("17h*", base))
    return ".text." + base + ("*" if base != name and not base.endswith("*") else "")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--profiles", required=True)
    ap.add_argument("--binary", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    names = hot_names(args.profiles, args.binary)
    patterns = list(dict.fromkeys(pattern(n) for n in names))
    with open(args.out, "w") as f:
        f.write("/* Generated by scripts/hot_functions.py (`make hot-functions`): the\n"
                f"   {len(patterns)} functions a warm invocation runs, laid out together\n"
                "   before the rest of .text (docs/PERFORMANCE.md, \"Levers kept\"). */\n")
        f.write("SECTIONS {\n  .text.hot : {\n")
        for p in patterns:
            f.write(f"    *({p})\n")
        f.write("  }\n}\nINSERT BEFORE .text;\n")
    print(f"{args.out}: {len(patterns)} functions")


if __name__ == "__main__":
    main()
