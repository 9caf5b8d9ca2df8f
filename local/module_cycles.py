#!/usr/bin/env python3
"""Checks that no crate of the workspace has a dependency cycle between its modules.

  python3 local/module_cycles.py        prints each crate's module graph; exit 1 on a cycle

Crates cannot depend on each other in a cycle (cargo refuses to build one); inside a crate
nothing stops it, so this reads every crate's sources: each top-level module (`store`, `api`,
...) depends on another when its code names `crate::<other>` (also in a grouped `use
crate::{...}`, and through `super::` from a top-level module). Test modules (`#[cfg(test)]`)
are left out: a test may use anything. A cycle means two modules that cannot be understood,
changed or moved one without the other.
"""

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
IDENT = r"[a-z_][a-z0-9_]*"


def without_tests(text):
    """The source without its `#[cfg(test)]` items (a module or a function, up to its brace)."""
    out, position = [], 0
    for match in re.finditer(r"#\[cfg\(test\)\]", text):
        if match.start() < position:
            continue
        out.append(text[position : match.start()])
        brace = text.find("{", match.end())
        semicolon = text.find(";", match.end())
        if brace == -1 or (semicolon != -1 and semicolon < brace):
            position = semicolon + 1  # `#[cfg(test)] mod tests;` or a `use`
            continue
        depth, index = 0, brace
        while index < len(text):
            if text[index] == "{":
                depth += 1
            elif text[index] == "}":
                depth -= 1
                if depth == 0:
                    break
            index += 1
        position = index + 1
    out.append(text[position:])
    return "".join(out)


def without_comments(text):
    return re.sub(r"//[^\n]*", "", text)


def grouped_heads(group):
    """The first name of each item of a `{...}` use group, at its own level only."""
    heads, depth, item = [], 0, ""
    for char in group:
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        if depth == 0 and char == ",":
            heads.append(item)
            item = ""
        elif depth >= 0:
            item += char
    heads.append(item)
    names = []
    for head in heads:
        match = re.match(rf"\s*({IDENT})", head)
        if match:
            names.append(match.group(1))
    return names


def referenced(text, depth):
    """The top-level modules a file at `depth` (1: a top-level module's own file) names."""
    names = set()
    prefixes = ["crate"]
    if depth == 1:
        prefixes.append("super")
    elif depth == 2:
        prefixes.append("super::super")
    for prefix in prefixes:
        pattern = re.escape(prefix) + r"::"
        for match in re.finditer(pattern + rf"({IDENT})", text):
            names.add(match.group(1))
        for match in re.finditer(pattern + r"\{", text):
            start, depth_count, index = match.end(), 1, match.end()
            while index < len(text) and depth_count:
                if text[index] == "{":
                    depth_count += 1
                elif text[index] == "}":
                    depth_count -= 1
                index += 1
            names.update(grouped_heads(text[start : index - 1]))
    return names


def module_graph(source_dir):
    """{top-level module: modules it names} for the crate whose sources are in `source_dir`."""
    modules = {}
    for path in sorted(source_dir.rglob("*.rs")):
        parts = path.relative_to(source_dir).with_suffix("").parts
        if parts in (("lib",), ("main",)):
            continue
        if parts[-1] == "mod":
            parts = parts[:-1]
        top = parts[0]
        text = without_comments(without_tests(path.read_text()))
        modules.setdefault(top, set()).update(referenced(text, len(parts)))
    return {module: {name for name in names if name in modules and name != module} for module, names in modules.items()}


def cycles(graph):
    """Every cycle, each once, as a list of modules."""
    found, state, stack = [], {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                cycle = stack[stack.index(nxt) :]
                if sorted(cycle) not in [sorted(c) for c in found]:
                    found.append(cycle)
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return found


def crates():
    for manifest in sorted(ROOT.glob("*/*/Cargo.toml")) + sorted(ROOT.glob("*/Cargo.toml")):
        source = manifest.parent / "src"
        if source.is_dir() and "node_modules" not in manifest.parts:
            yield manifest.parent.relative_to(ROOT), source


def main():
    failed = False
    for name, source in crates():
        graph = module_graph(source)
        found = cycles(graph)
        edges = ", ".join(f"{a} -> {b}" for a in sorted(graph) for b in sorted(graph[a])) or "no module depends on another"
        print(f"{name}: {edges}")
        for cycle in found:
            failed = True
            print(f"  CYCLE in {name}: {' -> '.join(cycle + [cycle[0]])}", file=sys.stderr)
    if failed:
        sys.exit(1)
    print("no module cycle in any crate")


if __name__ == "__main__":
    main()
