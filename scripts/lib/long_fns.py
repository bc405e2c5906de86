"""Functions longer than a page (ARCHITECTURE.md: a long use case is a few named steps): every
`fn` in the crates' sources, outside test modules, whose body runs past LIMIT lines. Exits
non-zero, naming each, when there is one."""

import os
import re
import sys

LIMIT = 120
FN = re.compile(r"^\s*(?:pub(?:\([^)]*\))?\s+)?(?:const\s+)?(?:async\s+)?(?:unsafe\s+)?fn\s+(\w+)")


def long_functions(path):
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    out = []
    i = 0
    while i < len(lines):
        if lines[i].strip().startswith("#[cfg(test)]"):
            break
        m = FN.match(lines[i])
        if not m:
            i += 1
            continue
        depth, started, j = 0, False, i
        while j < len(lines):
            code = re.sub(r"//.*", "", lines[j])
            code = re.sub(r'"(?:\\.|[^"\\])*"', '""', code)
            code = re.sub(r"'(?:\\.|[^'\\])'", "''", code)
            if not started and ";" in code and "{" not in code:
                break  # a declaration without a body
            depth += code.count("{") - code.count("}")
            started = started or "{" in code
            if started and depth <= 0:
                break
            j += 1
        length = j - i + 1
        if started and length > LIMIT:
            out.append((m.group(1), i + 1, length))
        i = j + 1 if started else i + 1
    return out


def main(root):
    bad = []
    for dirpath, _, files in os.walk(root):
        # Tests and benchmarks may run long (ARCHITECTURE.md).
        if os.sep + "tests" in dirpath or "/target" in dirpath or "/bench" in dirpath:
            continue
        for f in sorted(files):
            if f.endswith(".rs"):
                path = os.path.join(dirpath, f)
                for name, line, length in long_functions(path):
                    bad.append(f"{path}:{line} {name} ({length} lines)")
    if bad:
        print(f"error: functions over {LIMIT} lines:", file=sys.stderr)
        for b in sorted(bad):
            print(f"  {b}", file=sys.stderr)
        sys.exit(1)
    print(f"no function over {LIMIT} lines")


main(sys.argv[1] if len(sys.argv) > 1 else "crates")
