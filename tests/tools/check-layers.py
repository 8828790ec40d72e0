#!/usr/bin/env python3
"""Layering check over the object files' symbols (issue 12).

Every object under OBJDIR (default build/obj) is mapped to its layer by its
source path; an edge A -> B is drawn when A references (nm: U) a global that
B defines. The check fails when

  - a file references a symbol defined in a higher layer (arrows point down
    only), or
  - files reference each other's symbols in a circle, inside a folder too
    (every strongly connected component of more than one file is reported,
    with one cycle through it).

Symbols, not includes: an #include graph cannot see today's circles, since
every rules file includes rules_private.h.

Known violations in code that is being rewritten are listed, one edge a line,
in tests/tools/layers-exceptions.txt; the check also fails on an exception
that no longer matches anything, so the list can only shrink.

Usage: check-layers.py [OBJDIR] [--exceptions FILE] [--graph]
"""
import collections
import os
import subprocess
import sys

# Lower number = lower layer. The longest matching prefix decides; order and
# output share a layer (neither may use the other's symbols in a circle, which
# the cycle check sees).
LAYERS = [
    ("parsers/util/", 0, "base"),
    ("parsers/", 1, "parsers"),
    ("analyzer/rules/", 2, "rules"),
    ("analyzer/correlate/", 3, "correlate"),
    ("analyzer/order/", 4, "order/output"),
    ("analyzer/output/", 4, "order/output"),
    ("analyzer/engine/", 5, "engine"),
    ("analyzer/cli/", 6, "cli"),
]


def layer_of(src):
    best = None
    for prefix, level, name in LAYERS:
        if src.startswith(prefix) and (best is None or len(prefix) > len(best[0])):
            best = (prefix, level, name)
    return best


def read_symbols(objdir):
    """-> (sources, defined: symbol -> source, undefined: source -> set)."""
    sources = []
    defined = {}
    undefined = collections.defaultdict(set)
    for root, _dirs, files in os.walk(objdir):
        for f in sorted(files):
            if not f.endswith(".o"):
                continue
            obj = os.path.join(root, f)
            src = os.path.relpath(obj, objdir)[:-2] + ".c"
            # A stale object of a moved or deleted source is not in the build.
            if layer_of(src) is None or not os.path.exists(src):
                continue
            sources.append(src)
            out = subprocess.run(["nm", "-P", obj], capture_output=True, text=True, check=True).stdout
            for line in out.splitlines():
                parts = line.split()
                if len(parts) < 2:
                    continue
                name, kind = parts[0], parts[1]
                if kind == "U":
                    undefined[src].add(name)
                elif kind.isupper() and kind not in ("W", "V"):
                    if name in defined and defined[name] != src:
                        sys.exit("check-layers: %s defined in both %s and %s" % (name, defined[name], src))
                    defined[name] = src
    return sorted(sources), defined, undefined


def read_exceptions(path):
    """Lines 'from.c -> to.c  # why'; blank lines and comments skipped."""
    edges = {}
    if not path or not os.path.exists(path):
        return edges
    with open(path) as fh:
        for lineno, line in enumerate(fh, 1):
            text = line.split("#", 1)[0].strip()
            if not text:
                continue
            parts = [p.strip() for p in text.split("->")]
            if len(parts) != 2 or not all(parts):
                sys.exit("%s:%d: expected 'from.c -> to.c'" % (path, lineno))
            edges[(parts[0], parts[1])] = lineno
    return edges


def strongly_connected(nodes, succ):
    """Tarjan's algorithm, iterative; -> list of components (lists)."""
    index = {}
    low = {}
    on_stack = set()
    stack = []
    comps = []
    counter = [0]
    for root in nodes:
        if root in index:
            continue
        work = [(root, iter(sorted(succ[root])))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, it = work[-1]
            advanced = False
            for nxt in it:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter[0]
                    counter[0] += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(succ[nxt]))))
                    advanced = True
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.append(w)
                    if w == node:
                        break
                comps.append(sorted(comp))
    return comps


def one_cycle(comp, succ):
    """A shortest cycle through the component's first file (BFS)."""
    members = set(comp)
    start = comp[0]
    prev = {start: None}
    queue = collections.deque([start])
    while queue:
        node = queue.popleft()
        for nxt in sorted(succ[node]):
            if nxt not in members:
                continue
            if nxt == start:
                path = [node]
                while prev[path[-1]] is not None:
                    path.append(prev[path[-1]])
                path.reverse()
                return path + [start]
            if nxt not in prev:
                prev[nxt] = node
                queue.append(nxt)
    return comp + [start]


def main(argv):
    objdir = "build/obj"
    exc_path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "layers-exceptions.txt")
    show_graph = False
    args = list(argv)
    while args:
        a = args.pop(0)
        if a == "--exceptions":
            exc_path = args.pop(0)
        elif a == "--graph":
            show_graph = True
        else:
            objdir = a
    if not os.path.isdir(objdir):
        sys.exit("check-layers: no %s (build first)" % objdir)

    sources, defined, undefined = read_symbols(objdir)
    exceptions = read_exceptions(exc_path)
    used_exceptions = set()

    # edges[a][b] = symbols of b that a references
    edges = collections.defaultdict(lambda: collections.defaultdict(set))
    for src in sources:
        for sym in undefined[src]:
            dst = defined.get(sym)
            if dst and dst != src:
                edges[src][dst].add(sym)

    succ = {s: set() for s in sources}
    problems = []
    for src in sources:
        for dst, syms in sorted(edges[src].items()):
            if (src, dst) in exceptions:
                used_exceptions.add((src, dst))
                continue
            succ[src].add(dst)
            if show_graph:
                print("%s -> %s  %s" % (src, dst, " ".join(sorted(syms))))
            ls, ld = layer_of(src), layer_of(dst)
            if ld[1] > ls[1]:
                problems.append("upward: %s (%s) uses %s (%s): %s"
                                % (src, ls[2], dst, ld[2], " ".join(sorted(syms))))

    for comp in strongly_connected(sources, succ):
        if len(comp) < 2:
            continue
        cycle = one_cycle(comp, succ)
        steps = []
        for a, b in zip(cycle, cycle[1:]):
            steps.append("%s -> %s (%s)" % (a, b, ", ".join(sorted(edges[a][b])[:3])))
        problems.append("circle of %d files: %s\n    %s"
                        % (len(comp), " ".join(comp), "\n    ".join(steps)))

    for edge, lineno in sorted(exceptions.items(), key=lambda kv: kv[1]):
        if edge not in used_exceptions:
            problems.append("%s:%d: stale exception %s -> %s (no such reference any more: delete the line)"
                            % (exc_path, lineno, edge[0], edge[1]))

    for p in problems:
        print("check-layers: " + p)
    if problems:
        print("check-layers: %d problem(s); layers: %s" % (
            len(problems), " < ".join(dict.fromkeys(name for _p, _l, name in LAYERS))))
        return 1
    print("check-layers: %d files, %d references, arrows down only, no circles (%d listed exceptions)"
          % (len(sources), sum(len(succ[s]) for s in sources), len(used_exceptions)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
