"""Mutation testing: does some test fail when one line of a module is broken?

    python bench/mutation.py mptui/board/fs.py mptui/board/repl.py
    python bench/mutation.py mptui/board/fs.py --sample 40 --seed 2   # a quick look
    python bench/mutation.py mptui/board/fs.py --rerun     # last run's survivors again (after
                                                           # new tests); the others as they were
    python bench/mutation.py mptui/board/fs.py --list                 # the mutants, not run
    python bench/mutation.py mptui/board/fs.py --report    # figures from the saved results

Each mutant is one small change to the module: a comparison flipped (== to !=, < to >=) or
moved by one (< to <=), an int constant +1 or -1, `and` <-> `or`, a `not` dropped,
True <-> False, a statement replaced by `pass`, `break` <-> `continue`. It is written into a
copy of the tree (the work tree is never touched) and the module's covering tests run on it,
stopping at the first failure (`pytest -x`, every test under a timeout). Killed: a test failed.
Survived: they all passed, so that change could ship with the suite green. Timeout: a test hung
(pytest-timeout), or the whole run outlived its limit; a hang fails a real run too, so it
counts as caught. Equivalent mutants (the change cannot alter behaviour) are listed in
bench/mutation_equivalent.toml with the reason, and left out of the rate.

Prints, per module: killed / survived / timeout / equivalent and the kill rate, then every
survivor (line and change). Results go to .mutation/last.json for --rerun. Not run in CI: each
mutant is one pytest run (a module takes tens of minutes on two cores).
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib

REPO = Path(__file__).resolve().parent.parent
EQUIVALENT = REPO / "bench" / "mutation_equivalent.toml"
RESULTS = REPO / ".mutation" / "last.json"

# The tests that cover each module, the module's own first (a mutant is usually caught there,
# and -x stops at once). Give others with --tests.
COVERING = {
    "mptui/board/fs.py": [
        "tests/test_fs.py", "tests/test_fs_faults.py", "tests/test_fs_edges.py",
        "tests/test_fs_compress.py", "tests/test_links.py", "tests/test_repl_links.py",
        "tests/test_webrepl.py", "tests/test_transports.py", "tests/sync/test_copier.py",
    ],
    "mptui/board/fs_write.py": [  # (BoardFS's writes)
        "tests/test_fs_cold_write.py", "tests/test_fs.py", "tests/test_fs_faults.py", "tests/test_write_lossy.py",
        "tests/test_fs_edges.py", "tests/test_fs_compress.py", "tests/test_links.py",
        "tests/test_webrepl.py", "tests/sync/test_copier.py",
    ],
    # The helper parts fs.py is built of (the write stream, the loader, the plain fallback).
    "mptui/board/batch.py": [
        "tests/test_fs_cold_write.py", "tests/test_fs_compress.py", "tests/test_fs_faults.py", "tests/test_links.py",
        "tests/test_fs.py", "tests/sync/test_copier.py", "tests/sync/test_sync_engine.py",
    ],
    "mptui/board/loader.py": ["tests/test_fs.py", "tests/test_fs_edges.py", "tests/test_links.py"],
    "mptui/board/fs_plain.py": ["tests/test_fs_edges.py", "tests/test_fs.py", "tests/test_links.py"],
    "mptui/board/adapt.py": ["tests/test_links.py", "tests/test_fs_compress.py", "tests/test_fs.py"],
    "mptui/board/repl.py": [
        "tests/test_repl.py", "tests/test_repl_links.py", "tests/test_fs.py", "tests/test_fs_faults.py",
    ],
    "mptui/board/repl_reader.py": [  # (the bytes repl.py reads)
        "tests/test_repl.py", "tests/test_repl_links.py", "tests/test_console_after_raw.py",
        "tests/test_fs.py", "tests/test_fs_faults.py",
    ],
    "mptui/ui/terminal/pacing.py": ["tests/tui/test_terminal_pacing.py", "tests/tui/test_app.py"],
    "mptui/board/typed.py": ["tests/test_typed.py", "tests/tui/test_repl_links.py"],
    "mptui/services/ignore.py": [
        "tests/sync/test_ignore_rules.py", "tests/sync/test_ignore_edges.py", "tests/sync",
    ],
    "mptui/services/sync.py": ["tests/sync"],
    "mptui/services/copier.py": [
        "tests/sync/test_copier.py", "tests/test_copy_traversal.py", "tests/sync",
    ],
    "mptui/services/boards.py": ["tests/test_board_names.py", "tests/test_board_refs.py"],
    "mptui/services/transfer.py": ["tests/sync", "tests/tui/test_files_tab.py"],
    "mptui/agent/release.py": ["tests/ota/test_ota_verify.py", "tests/ota"],
    "mptui/services/ota/keys.py": [
        "tests/ota/test_ota_verify.py", "tests/ota/test_ota_keys.py", "tests/ota/test_ota_security.py",
        "tests/ota/test_ota_downgrade.py", "tests/ota/test_ota_gate.py",
    ],
}

NEGATED = {
    ast.Eq: ast.NotEq, ast.NotEq: ast.Eq, ast.Lt: ast.GtE, ast.GtE: ast.Lt, ast.Gt: ast.LtE,
    ast.LtE: ast.Gt, ast.In: ast.NotIn, ast.NotIn: ast.In, ast.Is: ast.IsNot, ast.IsNot: ast.Is,
}
BOUNDARY = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt}
# Statements worth removing one at a time (not imports, defs, docstrings, pass).
REMOVABLE = (
    ast.Expr, ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Return, ast.Raise, ast.Delete,
    ast.Assert, ast.If, ast.For, ast.AsyncFor, ast.While, ast.With, ast.AsyncWith, ast.Try,
)
SKIPPED_FIELDS = {"annotation", "returns", "type_comment", "decorator_list"}


@dataclass
class Mutant:
    module: str
    index: int  # among the module's mutants, in source order
    line: int
    source: str  # the source line, stripped
    change: str  # "`a == b` -> `a != b`"
    occurrence: int = 1  # the same change on the same line text elsewhere: 2, 3, ...
    status: str = ""  # killed | survived | timeout | equivalent
    seconds: float = 0.0
    detail: str = ""  # the failing test, or why it is equivalent

    @property
    def key(self) -> tuple[str, str, str, int]:
        return (self.module, self.source, self.change, self.occurrence)


# -- finding and applying mutations ------------------------------------------------------------


def _short(node: ast.AST) -> str:
    text = ast.unparse(node).replace("\n", "; ")
    return text if len(text) <= 70 else text[:67] + "..."


def _is_docstring(node: ast.AST) -> bool:
    return (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str))


def _sites(tree: ast.Module):
    """(node, mutate) pairs in source order; mutate(node) changes that node in place (the tree
    is a fresh parse each time) and returns the changed node's text after."""
    out = []

    def visit(node: ast.AST, parent_body: list | None) -> None:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            return
        if (isinstance(node, REMOVABLE) and parent_body is not None
                and not (isinstance(node, ast.AnnAssign) and node.value is None)):
            out.append((node, "pass"))  # (a bare annotation is a dataclass field: no statement)
        if isinstance(node, ast.Compare):
            for i, op in enumerate(node.ops):
                out.append((node, ("negate", i)))
                if type(op) in BOUNDARY:
                    out.append((node, ("boundary", i)))
        elif isinstance(node, ast.BoolOp):
            out.append((node, "andor"))
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            out.append((node, "dropnot"))
        elif isinstance(node, ast.Constant) and isinstance(node.value, bool):
            out.append((node, "bool"))
        elif isinstance(node, ast.Constant) and type(node.value) is int:
            out.append((node, ("int", 1)))
            out.append((node, ("int", -1)))
        elif isinstance(node, (ast.Break, ast.Continue)):
            out.append((node, "loopjump"))
        for field, value in ast.iter_fields(node):
            if field in SKIPPED_FIELDS:
                continue
            if isinstance(value, list):
                for i, item in enumerate(value):
                    if isinstance(item, ast.AST):
                        if field == "body" and i == 0 and _is_docstring(item):
                            continue
                        visit(item, value if isinstance(item, ast.stmt) else None)
            elif isinstance(value, ast.AST):
                visit(value, None)

    visit(tree, None)
    return out


def _apply(tree: ast.Module, index: int) -> tuple[int, str]:
    """Apply mutation `index` to `tree` (in place); (line, description)."""
    node, how = _sites(tree)[index]
    before = _short(node)
    line = node.lineno
    if how == "pass":
        replacement = ast.Pass()
        _replace_stmt(tree, node, replacement)
        return line, f"`{before}` -> `pass`"
    if isinstance(how, tuple) and how[0] in ("negate", "boundary"):
        table = NEGATED if how[0] == "negate" else BOUNDARY
        node.ops[how[1]] = table[type(node.ops[how[1]])]()
    elif how == "andor":
        node.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
    elif how == "dropnot":
        after = _short(node.operand)
        _replace_expr(tree, node, node.operand)
        return line, f"`{before}` -> `{after}`"
    elif how == "bool":
        node.value = not node.value
    elif isinstance(how, tuple) and how[0] == "int":
        node.value += how[1]
    elif how == "loopjump":
        new = ast.Continue() if isinstance(node, ast.Break) else ast.Break()
        _replace_stmt(tree, node, new)
        return line, f"`{before}` -> `{ast.unparse(new)}`"
    return line, f"`{before}` -> `{_short(node)}`"


def _replace_stmt(tree: ast.AST, old: ast.stmt, new: ast.stmt) -> None:
    for parent in ast.walk(tree):
        for _field, value in ast.iter_fields(parent):
            if isinstance(value, list) and any(v is old for v in value):
                value[next(i for i, v in enumerate(value) if v is old)] = ast.copy_location(new, old)
                return


def _replace_expr(tree: ast.AST, old: ast.expr, new: ast.expr) -> None:
    for parent in ast.walk(tree):
        for field, value in ast.iter_fields(parent):
            if value is old:
                setattr(parent, field, new)
                return
            if isinstance(value, list) and any(v is old for v in value):
                value[next(i for i, v in enumerate(value) if v is old)] = new
                return


def mutants_of(module: str, text: str) -> tuple[str, list[Mutant]]:
    """The module's unchanged source (as ast.unparse writes it) and its mutants."""
    lines = text.splitlines()
    tree = ast.parse(text)
    found, seen = [], {}
    for index in range(len(_sites(tree))):
        fresh = ast.parse(text)
        line, change = _apply(fresh, index)
        source = lines[line - 1].strip()
        seen[source, change] = seen.get((source, change), 0) + 1
        found.append(Mutant(module, index, line, source, change, seen[source, change]))
    return ast.unparse(tree), found


def mutated_source(text: str, index: int) -> str:
    tree = ast.parse(text)
    _apply(tree, index)
    return ast.unparse(ast.fix_missing_locations(tree))


def equivalents() -> dict[tuple[str, str, str], str]:
    if not EQUIVALENT.exists():
        return {}
    entries = tomllib.loads(EQUIVALENT.read_text()).get("equivalent", [])
    return {(e["module"], e["line"], e["mutation"], e.get("occurrence", 1)): e["why"]
            for e in entries}


def _keyed(results: list[dict]) -> dict[tuple, dict]:
    """Earlier results by key (results written before `occurrence` existed get it here)."""
    seen, out = {}, {}
    for m in sorted(results, key=lambda m: (m["module"], m["index"])):
        base = (m["module"], m["source"], m["change"])
        seen[base] = seen.get(base, 0) + 1
        out[(*base, m.get("occurrence", seen[base]))] = m
    return out


# -- running ---------------------------------------------------------------------------------


NOT_COPIED = shutil.ignore_patterns(".venv", "venv", ".git", "__pycache__", "*.egg-info",
                                    ".pytest_cache", ".hypothesis", ".ruff_cache", ".mutation",
                                    "snapshot_report.html", "build", "dist")


class Workspace:
    """A copy of the tree where mutants are written; tests run there with it first on the
    path (subprocesses too: `python -m mptui` in a test runs the mutant)."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="mptui-mutation-"))
        shutil.copytree(REPO, self.root / "tree", ignore=NOT_COPIED)
        self.tree = self.root / "tree"
        self._sources: dict[str, str] = {}
        self.env = {**os.environ, "PYTHONPATH": str(self.tree), "PYTHONDONTWRITEBYTECODE": "1"}
        where = subprocess.run([sys.executable, "-c", "import mptui; print(mptui.__file__)"],
                               cwd=self.tree, env=self.env, capture_output=True, text=True,
                               check=True).stdout.strip()
        if not where.startswith(str(self.tree)):
            raise SystemExit(f"the copy is not the mptui imported ({where}); is PYTHONPATH honoured?")

    def source(self, module: str) -> str:
        """The module as it was copied (the work tree may change while mutants run)."""
        if module not in self._sources:
            self._sources[module] = (self.tree / module).read_text()
        return self._sources[module]

    def write(self, module: str, source: str) -> None:
        (self.tree / module).write_text(source)

    def restore(self, module: str) -> None:
        self.write(module, self.source(module))

    def run(self, tests: list[str], test_timeout: float, limit: float) -> tuple[str, float, str]:
        """(status, seconds, the first failure's line) for one pytest run."""
        argv = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider",
                f"--timeout={test_timeout}", "-o", "addopts=",
                f"--basetemp={self.root / 'pytest-tmp'}", *tests]  # (not shared /tmp/pytest-of-*)
        started = time.monotonic()
        proc = subprocess.Popen(argv, cwd=self.tree, env=self.env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, start_new_session=True)
        try:
            out, _ = proc.communicate(timeout=limit)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            return "timeout", time.monotonic() - started, f"the run outlived {limit:.0f} s"
        except BaseException:  # stopped (Ctrl-C, SIGTERM): the run's processes go too
            os.killpg(proc.pid, signal.SIGKILL)
            raise
        seconds = time.monotonic() - started
        text = out.decode("utf-8", "replace")
        failed = next((ln for ln in text.splitlines() if ln.startswith(("FAILED", "ERROR"))), "")
        if proc.returncode == 0:
            return "survived", seconds, ""
        if "Timeout (>" in text:
            return "timeout", seconds, failed
        if proc.returncode in (1, 2, 3, 4):  # failures, errors collecting, inside, loading
            return "killed", seconds, failed or text.strip().splitlines()[-1:][0]
        raise SystemExit(f"pytest exited {proc.returncode}:\n{text[-3000:]}")

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def run_module(module: str, chosen: list[Mutant], tests: list[str], ws: Workspace,
               test_timeout: float) -> None:
    text = ws.source(module)
    baseline_source, _ = mutants_of(module, text)
    ws.write(module, baseline_source)  # the unchanged module as ast.unparse writes it
    status, seconds, detail = ws.run(tests, test_timeout, limit=1800)
    if status != "survived":
        raise SystemExit(f"{module}: the covering tests fail without a mutant ({detail})")
    limit = 3 * seconds + 60
    print(f"{module}: {len(chosen)} mutants; tests {' '.join(tests)} pass in {seconds:.0f} s "
          f"(a mutant's run is stopped after {limit:.0f} s)", flush=True)
    try:
        for n, m in enumerate(chosen, 1):
            ws.write(module, mutated_source(text, m.index))
            m.status, m.seconds, m.detail = ws.run(tests, test_timeout, limit)
            print(f"  [{n}/{len(chosen)}] #{m.index} {m.status:8} {m.seconds:5.1f}s  "
                  f"L{m.line} {m.change}", flush=True)
    finally:
        ws.restore(module)


def _nth(m: Mutant) -> str:
    return f" (occurrence {m.occurrence})" if m.occurrence > 1 else ""


def report(module: str, mutants: list[Mutant]) -> None:
    count = {s: sum(m.status == s for m in mutants)
             for s in ("killed", "survived", "timeout", "equivalent")}
    judged = count["killed"] + count["survived"] + count["timeout"]
    rate = 100 * (count["killed"] + count["timeout"]) / judged if judged else 100.0
    print(f"\n{module}: {judged} judged: {count['killed']} killed, {count['survived']} survived, "
          f"{count['timeout']} timeout; {count['equivalent']} equivalent (left out); "
          f"kill rate {rate:.1f}%")
    for m in sorted(mutants, key=lambda m: m.index):
        if m.status == "survived":
            print(f"  SURVIVED #{m.index} L{m.line}: {m.change}{_nth(m)}    | {m.source}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("modules", nargs="+", help="module paths, e.g. mptui/board/fs.py")
    ap.add_argument("--tests", nargs="+", help="covering tests (default: the table COVERING)")
    ap.add_argument("--sample", type=int, help="this many mutants per module, at random")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--only", type=int, nargs="+", help="these mutant numbers (#N)")
    ap.add_argument("--rerun", action="store_true",
                    help="only the last run's survivors and mutants of changed lines")
    ap.add_argument("--list", action="store_true", help="list the mutants, run nothing")
    ap.add_argument("--report", action="store_true",
                    help="the figures from the saved results and today's equivalents, run nothing")
    ap.add_argument("--test-timeout", type=float, default=60.0, help="seconds per test")
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("stopped"))  # the copy is removed

    known = equivalents()
    last = json.loads(RESULTS.read_text()) if RESULTS.exists() else []
    before = _keyed(last)
    ws = None if args.list or args.report else Workspace()
    every: dict[str, list[Mutant]] = {}  # each module's mutants, with what this run found
    ran: set[tuple] = set()  # the keys of the mutants this run tested
    try:
        for module in args.modules:
            module = str(Path(module))
            _, mutants = mutants_of(module, ws.source(module) if ws else (REPO / module).read_text())
            for m in mutants:
                if m.key in known:
                    m.status, m.detail = "equivalent", known[m.key]
            matched = {m.key for m in mutants}
            for key in known:
                if key[0] == module and key not in matched:
                    print(f"{module}: stale entry in {EQUIVALENT.name} (no such mutant): "
                          f"{key[2]} | {key[1]}")
            todo = [m for m in mutants if not m.status]
            if args.only:
                todo = [m for m in todo if m.index in args.only]
            if args.rerun:  # the survivors, and mutants of code changed since
                todo = [m for m in todo
                        if before.get(m.key, {"status": "survived"})["status"] == "survived"]
            if args.sample and args.sample < len(todo):
                todo = sorted(random.Random(args.seed).sample(todo, args.sample),
                              key=lambda m: m.index)
            if args.report:
                for m in mutants:
                    if not m.status and m.key in before:
                        m.status, m.detail = before[m.key]["status"], before[m.key]["detail"]
                unrun = [m for m in mutants if not m.status]
                report(module, [m for m in mutants if m.status])
                if unrun:
                    print(f"  ({len(unrun)} mutants of changed lines not run yet: --rerun)")
                continue
            if args.list:
                for m in mutants:
                    print(f"#{m.index} L{m.line} {m.status or '-':10} {m.change}{_nth(m)}    "
                          f"| {m.source}")
                continue
            tests = args.tests or COVERING.get(module)
            if not tests:
                raise SystemExit(f"{module}: no covering tests known; give --tests")
            tests = [t for t in tests if (REPO / t.split("::")[0]).exists()]
            run_module(module, todo, tests, ws, args.test_timeout)
            every[module] = mutants
            ran |= {m.key for m in todo}
            if args.rerun or args.only:  # the others as the last run found them
                for m in mutants:
                    if not m.status and m.key in before:
                        m.status, m.detail = before[m.key]["status"], before[m.key]["detail"]
                judged = [m for m in mutants if m.status]
            else:
                judged = [m for m in mutants if m.status == "equivalent"] + todo
            report(module, judged)
    finally:
        if ws:
            ws.remove()
    if every:
        save(every, ran, partial=bool(args.rerun or args.only or args.sample))


def save(every: dict[str, list[Mutant]], ran: set[tuple], partial: bool) -> None:
    """Merge into the saved results, read again now (another run, of other modules or of other
    mutants of these, may have saved meanwhile): what this run tested replaces what was saved;
    a partial run keeps the saved results of the mutants it did not test."""
    earlier = json.loads(RESULTS.read_text()) if RESULTS.exists() else []
    saved = _keyed(earlier)
    out = [m for m in earlier if m["module"] not in every]
    for mutants in every.values():
        for m in mutants:
            if m.key in ran or m.status == "equivalent":
                out.append(asdict(m))
            elif partial and m.key in saved:
                out.append({**saved[m.key], "index": m.index, "occurrence": m.occurrence})
    RESULTS.parent.mkdir(exist_ok=True)
    tmp = RESULTS.with_suffix(".tmp")
    tmp.write_text(json.dumps(out, indent=1))
    os.replace(tmp, RESULTS)


if __name__ == "__main__":
    main()
