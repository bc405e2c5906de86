"""File-level import circles (ARCHITECTURE.md, rule 5): within each crate, which source files
refer to which (`use crate::a::b`, `crate::a::b::f()`, `super::x`, `self::x`, a child module by
name), and whether any of them refer to each other round a circle. A module declaring its
children (`mod x;`) is not a reference. Exits non-zero, naming each circle, when there is one."""

import os
import re
import sys

PATH = re.compile(r"\b(crate|super|self)((?:::[A-Za-z_][A-Za-z0-9_]*)+)")
USE_GROUP = re.compile(r"\buse\s+(crate|super|self)((?:::[A-Za-z_][A-Za-z0-9_]*)*)::\{([^;]*)\};", re.S)


def modules(src):
    """Every file of the crate rooted at `src`, by module path (a tuple)."""
    out = {}
    for root, _, files in os.walk(src):
        for f in files:
            if not f.endswith(".rs"):
                continue
            full = os.path.join(root, f)
            rel = os.path.relpath(full, src)[:-3].split(os.sep)
            if rel in (["lib"], ["main"]):
                path = ()
            elif rel[-1] == "mod":
                path = tuple(rel[:-1])
            else:
                path = tuple(rel)
            out[path] = full
    return out


def strip(text):
    text = re.sub(r"//[^\n]*", "", text)
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = re.sub(r'"(?:\\.|[^"\\])*"', '""', text)
    # Tests may reach anywhere.
    cut = text.find("#[cfg(test)]")
    text = text if cut < 0 else text[:cut]
    # Inside an inline module (`mod fixtures { … }`), `super` is this file.
    for m in list(re.finditer(r"\bmod\s+\w+\s*\{", text)):
        depth, end = 0, len(text)
        for i in range(m.end() - 1, len(text)):
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            if depth == 0:
                end = i
                break
        inner = text[m.end() : end].replace("super::", "self::")
        text = text[: m.end()] + inner + text[end:]
    return text


REEXPORT = re.compile(r"\bpub(?:\([^)]*\))?\s+use\s+([A-Za-z_][A-Za-z0-9_:]*?)(?:::\{([^;]*)\}|::([A-Za-z_][A-Za-z0-9_]*)(?:\s+as\s+([A-Za-z_][A-Za-z0-9_]*))?);", re.S)
EXPORTS = {}
EXTERNAL = ("<another crate>",)


def exports(mods, here, text):
    """What module `here` re-exports (`pub use x::Item;`): the item's name to where it lives."""
    out = {}
    for m in REEXPORT.finditer(text):
        prefix, group, single, alias = m.groups()
        base = prefix.split("::")[0]
        rest = "::" + "::".join(prefix.split("::")[1:]) if "::" in prefix else ""
        if base not in ("crate", "super", "self"):
            if (here + (base,)) not in mods:
                # Re-exported from another crate: no file of this one.
                names = re.split(r",", re.sub(r"\{[^}]*\}", "", group)) if group else [alias or single]
                for name in names:
                    name = name.split(" as ")[-1].strip()
                    if name:
                        out[name] = EXTERNAL
                continue
            base, rest = "self", "::" + prefix
        items = []
        if group is not None:
            for item in re.split(r",", re.sub(r"\{[^}]*\}", "", group)):
                item = item.strip()
                if item and item != "self":
                    name = item.split(" as ")[-1].strip()
                    items.append((item.split(" as ")[0].strip(), name))
        else:
            items.append((single, alias or single))
        for item, name in items:
            target = resolve(mods, here, base, rest + "::" + item, follow=False)
            if target is not None:
                out[name] = target
    return out


def resolve(mods, here, base, rest, follow=True):
    start = {"crate": (), "self": here, "super": here[:-1]}[base]
    parts = [p for p in rest.split("::") if p]
    while parts and parts[0] == "super":
        start, parts = start[:-1], parts[1:]
    best, used = None, 0
    for n in range(len(parts) + 1):
        cand = start + tuple(parts[:n])
        if cand in mods:
            best, used = cand, n
    # An item a module only re-exports lives where it is defined.
    if follow and best is not None and used < len(parts):
        target = EXPORTS.get(best, {}).get(parts[used])
        if target == EXTERNAL:
            return None
        if target is not None:
            return target
    return best


def references(mods, here, text):
    # A re-export is where an item is declared, not a use of it.
    text = re.sub(r"\bpub(?:\([^)]*\))?\s+use\s[^;]*;", "", text)
    found = set()
    for m in USE_GROUP.finditer(text):
        line_start = text.rfind("\n", 0, m.start()) + 1
        if re.match(r"\s*pub(\([^)]*\))?\s+use\b", text[line_start : m.start() + 1]):
            continue
        base, prefix, inner = m.groups()
        items = [i.split(" as ")[0].strip() for i in re.sub(r"\{[^}]*\}", "", inner).split(",")]
        for item in items:
            if item and item != "self":
                found.add(resolve(mods, here, base, prefix + "::" + item))
        if "self" in items or not any(items):
            found.add(resolve(mods, here, base, prefix))
    for m in PATH.finditer(text):
        # A re-export is where the item is declared, not a use of it.
        line_start = text.rfind("\n", 0, m.start()) + 1
        if re.match(r"\s*pub(\([^)]*\))?\s+use\b", text[line_start : m.start() + 1]):
            continue
        if text.startswith("::{", m.end()):
            continue  # a group, resolved item by item above
        found.add(resolve(mods, here, m.group(1), m.group(2)))
    # A child module used by name: `booking::routes()`.
    for child in (p for p in mods if len(p) == len(here) + 1 and p[:-1] == here):
        if re.search(r"(?<![:\w])" + re.escape(child[-1]) + r"::", text):
            found.add(child)
    found.discard(None)
    found.discard(here)
    # A module's own ancestors are where it is declared, not what it uses, unless named.
    return found


def circles(graph):
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            scc = []
            while True:
                w = stack.pop()
                on.discard(w)
                scc.append(w)
                if w == v:
                    break
            if len(scc) > 1:
                out.append(scc)

    sys.setrecursionlimit(10000)
    for v in graph:
        if v not in index:
            visit(v)
    return out


def main(crates_dir):
    bad = []
    for crate in sorted(os.listdir(crates_dir)):
        src = os.path.join(crates_dir, crate, "src")
        if not os.path.isdir(src):
            continue
        mods = modules(src)
        texts = {}
        for path, file in mods.items():
            with open(file, encoding="utf-8") as f:
                texts[path] = strip(f.read())
        EXPORTS.clear()
        for path, text in texts.items():
            EXPORTS[path] = exports(mods, path, text)
        graph = {path: references(mods, path, text) for path, text in texts.items()}
        for scc in circles(graph):
            names = sorted(os.path.relpath(mods[p], crates_dir) for p in scc)
            bad.append(f"{crate}: " + " <-> ".join(names))
    if bad:
        print("error: files that import each other in a circle:", file=sys.stderr)
        for line in bad:
            print(f"  {line}", file=sys.stderr)
        sys.exit(1)
    print("no import circles between files")


main(sys.argv[1] if len(sys.argv) > 1 else "crates")
