#!/usr/bin/env python3
"""Fails when the top-level modules of the `ward` crate depend on each other
in a cycle (a module's `crate::other` paths, tests excluded), printing the
cycle. Run by scripts/test.sh; usage: scripts/module-cycles.py [SRC_DIR]."""
import os
import re
import sys

src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "crates", "ward", "src")
modules = sorted(
    n[:-3] if n.endswith(".rs") else n
    for n in os.listdir(src)
    if n != "main.rs" and (n.endswith(".rs") or os.path.isdir(os.path.join(src, n)))
)
uses = {m: set() for m in modules}
pattern = re.compile(r"crate::([a-z_]+)")
for m in modules:
    path = os.path.join(src, m)
    files = [path + ".rs"] if os.path.isfile(path + ".rs") else [
        os.path.join(d, f) for d, _, fs in os.walk(path) for f in fs if f.endswith(".rs")
    ]
    for f in files:
        if re.search(r"(^|/)tests?(_\w+)?\.rs$", f):
            continue  # test modules may reach anywhere
        text = open(f, encoding="utf-8").read()
        # Drop `#[cfg(test)] mod tests { ... }` blocks at the end of a file.
        cut = re.search(r"#\[cfg\(test\)\]\s*mod tests\s*\{", text)
        if cut:
            text = text[: cut.start()]
        for other in pattern.findall(text):
            if other != m and other in uses:
                uses[m].add(other)

# Depth-first search for a cycle.
state = {}
stack = []


def visit(m):
    state[m] = "open"
    stack.append(m)
    for o in sorted(uses[m]):
        if state.get(o) == "open":
            cycle = stack[stack.index(o):] + [o]
            print("module cycle in crates/ward/src: " + " -> ".join(cycle), file=sys.stderr)
            sys.exit(1)
        if o not in state:
            visit(o)
    stack.pop()
    state[m] = "done"


for m in modules:
    if m not in state:
        visit(m)
print(f"module-cycles: {len(modules)} modules of crates/ward/src, no cycle")
