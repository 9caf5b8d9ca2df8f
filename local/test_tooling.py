"""Checks of the repository's own tooling, run by the unit phase of `make test`
(`python -m unittest discover -s local -p 'test_*.py'`, with .venv's python):

* the workspace's rust-version is at least what every locked dependency declares;
* the GitHub Actions workflows pass actionlint, and the scripts of the tooling pass shellcheck;
* `make help` lists every target of the Makefile;
* scripts/preflight.sh passes on this machine and names what is missing on one that lacks it;
* no file points at a repository path that does not exist.

A check whose tool is missing fails and says how to install it: nothing here skips.
"""

import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Dead pointers known today, as (file, path it names): each is to be fixed in its file, and
# then taken off this list (the check fails on an entry that is no longer dead, so the list
# can only shrink). Any other dead pointer fails the check.
KNOWN_DEAD_POINTERS: set[tuple[str, str]] = set()

# The scripts whose shellcheck findings fail the check: the tooling's own. The other scripts
# are linted too, once their findings are fixed, by adding them here.
SHELLCHECKED_SCRIPTS = ["scripts/tools.sh", "scripts/preflight.sh", "scripts/load.sh", "scripts/deploy-checks.sh", ".ci/run"]

# Lambda runs arm64 (template.yaml): the packages are built for it, beside the host's builds.
DEPLOY_TARGET = "aarch64-unknown-linux-gnu"
# Edition 2024, which every workspace member uses, needs Rust 1.85.
EDITION_FLOOR = {"2015": "1.0", "2018": "1.31", "2021": "1.56", "2024": "1.85"}

INSTALL_TEST_TOOLS = "run `scripts/tools.sh test` (make test does) to install it"


def version(text):
    return tuple(int(part) for part in text.split("."))


def run(*args, **kwargs):
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, **kwargs)


def tool(name, hint):
    """The path of a command, or a failed test saying how to get it."""
    # .venv's own bin first: the tools live there, whether or not .venv is on PATH.
    path = shutil.which(name, path=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))
    if path is None:
        raise AssertionError(f"{name} is not on PATH: {hint}")
    return path


class RustVersionTest(unittest.TestCase):
    def test_rust_version_covers_every_locked_dependency(self):
        """The workspace's rust-version is at least the newest rust-version among the locked
        packages the workspace builds: normal and build dependencies of everything it builds,
        and the dev-dependencies of its own crates (make test builds them), for the host and
        for Lambda's arm64."""
        cargo = tool("cargo", "install Rust (see scripts/preflight.sh)")
        host = re.search(r"^host: (\S+)$", run("rustc", "-vV", check=True).stdout, re.M).group(1)
        declared = {}
        floors = {}  # package "name version" -> rust-version
        for target in sorted({host, DEPLOY_TARGET}):
            result = run(cargo, "metadata", "--format-version", "1", "--locked", "--filter-platform", target)
            self.assertEqual(result.returncode, 0, result.stderr)
            metadata = json.loads(result.stdout)
            packages = {package["id"]: package for package in metadata["packages"]}
            members = set(metadata["workspace_members"])
            for member in members:
                package = packages[member]
                declared[package["name"]] = package.get("rust_version")
                floors[f"{package['name']} (edition {package['edition']})"] = EDITION_FLOOR[package["edition"]]
            nodes = {node["id"]: node for node in metadata["resolve"]["nodes"]}
            used, pending = set(), list(members)
            while pending:
                package_id = pending.pop()
                if package_id in used:
                    continue
                used.add(package_id)
                for dependency in nodes[package_id]["deps"]:
                    kinds = {kind["kind"] for kind in dependency["dep_kinds"]}
                    # Only our own crates' dev-dependencies are built (by cargo test).
                    if package_id in members or kinds & {None, "build"}:
                        pending.append(dependency["pkg"])
            for package_id in used - members:
                package = packages[package_id]
                if package.get("rust_version"):
                    floors[f"{package['name']} {package['version']}"] = package["rust_version"]
        floor = max(floors.values(), key=version)
        setters = sorted(name for name, value in floors.items() if version(value) == version(floor))
        print(f"\nrust-version floor {floor}, set by {', '.join(setters)}", file=sys.stderr)
        for name, value in sorted(declared.items()):
            self.assertIsNotNone(value, f"{name} declares no rust-version (rust-version.workspace = true)")
            self.assertGreaterEqual(
                version(value), version(floor),
                f"{name}: rust-version {value} is older than {floor}, which {', '.join(setters)} need")


class WorkflowTest(unittest.TestCase):
    def workflows(self):
        files = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
        self.assertTrue(files, "no workflow in .github/workflows")
        return files

    def test_actionlint(self):
        node = tool("node", "Node.js 20 or newer (see scripts/preflight.sh)")
        cli = ROOT / "local" / "actionlint" / "node_modules" / "@tktco" / "node-actionlint" / "bin" / "node-actionlint.js"
        self.assertTrue(cli.is_file(), f"actionlint is not installed: {INSTALL_TEST_TOOLS}")
        files = self.workflows()
        # It takes a glob and lints absolute paths; "Checking N" proves it saw every file.
        result = run(node, str(cli), str(ROOT / ".github" / "workflows" / "*.yml"))
        self.assertIn(f"Checking {len(files)} workflow file(s)", result.stdout, result.stdout + result.stderr)
        self.assertEqual(result.returncode, 0, "actionlint findings:\n" + result.stdout + result.stderr)

    def test_actions_are_pinned_to_a_version(self):
        for path in self.workflows():
            for line in path.read_text().splitlines():
                match = re.match(r"\s*(?:-\s*)?uses:\s*(\S+)", line)
                if match and not match.group(1).startswith("./"):
                    self.assertRegex(match.group(1), r"@(v\d+(\.\d+)*|[0-9a-f]{40})$",
                                     f"{path.name}: {match.group(1)} is not pinned to a version")


class ShellcheckTest(unittest.TestCase):
    def test_shellcheck(self):
        shellcheck = tool("shellcheck", INSTALL_TEST_TOOLS)
        result = run(shellcheck, "--shell=bash", "--external-sources", *SHELLCHECKED_SCRIPTS)
        self.assertEqual(result.returncode, 0, "shellcheck findings:\n" + result.stdout + result.stderr)


class MakefileTest(unittest.TestCase):
    def test_help_lists_every_target(self):
        make = tool("make", "apt-get install make")
        targets = re.findall(r"^([a-z][\w-]*):", (ROOT / "Makefile").read_text(), re.M)
        self.assertIn("help", targets)
        result = run(make, "-s", "help")
        self.assertEqual(result.returncode, 0, result.stderr)
        listed = re.findall(r"^  make (\S+) +\S", result.stdout, re.M)
        self.assertEqual(sorted(listed), sorted(targets), "make help lists:\n" + result.stdout)
        self.assertEqual(run(make, "-s").stdout, result.stdout, "help is not the default target")


class PreflightTest(unittest.TestCase):
    def test_this_machine_has_what_make_dev_needs(self):
        result = run("scripts/preflight.sh", "dev")
        self.assertEqual((result.returncode, result.stderr), (0, ""))

    def test_an_old_rustc_is_named_on_one_line(self):
        with tempfile.TemporaryDirectory() as bin_dir:
            fake = Path(bin_dir) / "rustc"
            fake.write_text("#!/bin/sh\necho 'rustc 1.80.0 (0000000 2024-07-21)'\n")
            fake.chmod(0o755)
            env = dict(os.environ, PATH=f"{bin_dir}:{os.environ['PATH']}")
            result = run("scripts/preflight.sh", "dev", env=env)
        self.assertEqual(result.returncode, 1)
        lines = [line for line in result.stderr.splitlines() if "Rust" in line]
        self.assertEqual(len(lines), 1, result.stderr)
        self.assertRegex(lines[0], r"^missing: Rust \d+\.\d+(\.\d+)? or newer \(this is rustc 1\.80\.0\): ")

    def test_an_unknown_command_is_refused(self):
        self.assertEqual(run("scripts/preflight.sh", "deploy-everything").returncode, 2)


# Repository paths in text: a path starting with one of the repository's top-level
# directories, not inside a URL or a longer path. `$ROOT/` before it counts as the root.
SCANNED_SUFFIXES = (".md", ".sh", ".py", ".rs", ".toml", ".yaml", ".yml", ".js", ".mjs", ".json")
SCANNED_NAMES = {"Makefile", ".ci/run"}
NOT_SCANNED = (
    "local/test_tooling.py",  # this file: its list names the dead pointers
    "functions/api-docs/assets/swagger-ui/",  # vendored as published
)
# <name>, ${VAR}, $VAR and {placeholder} stand for any path component.
PLACEHOLDER = re.compile(r"<[^<>/]*>|\$\{[^}]*\}|\$\w+|\{[^{}/]*\}")


def repository_files():
    result = run("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    if result.returncode != 0:
        raise AssertionError("git ls-files failed (the check needs a git checkout): " + result.stderr)
    return sorted(name for name in result.stdout.split("\0") if name and (ROOT / name).is_file())


def dead_pointers(extra_texts=()):
    """(file, pointer) for every repository path named in a text file that matches no file or
    directory of the repository (globs and placeholders: no path at all). extra_texts:
    (name, text) pairs scanned as if they were files."""
    files = repository_files()
    paths = set(files)
    for name in files:
        parts = name.split("/")
        paths.update("/".join(parts[:i]) for i in range(1, len(parts)))
    tops = sorted({name.split("/")[0] for name in files if "/" in name})
    token = re.compile(
        r"(?:(?<=\$ROOT/)|(?<=\$\{ROOT\}/)|(?<![\w./:@$~-]))"
        r"((?:" + "|".join(map(re.escape, tops)) + r")/[\w./<>*?{}$@-]*)")
    scanned = [
        (name, (ROOT / name).read_text(errors="replace")) for name in files
        if (name.endswith(SCANNED_SUFFIXES) or name in SCANNED_NAMES)
        and not name.endswith("package-lock.json") and not name.startswith(NOT_SCANNED)]
    found = set()
    for name, text in [*scanned, *extra_texts]:
        for match in token.finditer(text):
            pointer = match.group(1).rstrip(".")
            pattern = PLACEHOLDER.sub("*", pointer).rstrip("/")
            if re.search(r"[<>{}$]", pattern):
                continue  # a template of its own kind (e.g. a shell expansion): not a path
            if any(c in pattern for c in "*?"):
                exists = any(fnmatch.fnmatchcase(path, pattern) for path in paths)
            else:
                exists = pattern in paths
            if not exists:
                found.add((name, pointer))
    # Paths the repository ignores (node_modules, target, ...) are made at run time.
    if found:
        pointers = sorted({pointer for _, pointer in found})
        ignored = run("git", "check-ignore", "--no-index", "--stdin", input="\n".join(pointers) + "\n")
        ignored_paths = set(ignored.stdout.split("\n"))
        found = {(name, pointer) for name, pointer in found if pointer not in ignored_paths}
    return found


class PointerTest(unittest.TestCase):
    def test_no_pointer_to_a_file_that_does_not_exist(self):
        found = dead_pointers()
        new = sorted(found - KNOWN_DEAD_POINTERS)
        fixed = sorted(KNOWN_DEAD_POINTERS - found)
        if found & KNOWN_DEAD_POINTERS:
            print("\nknown dead pointers, still to fix:", file=sys.stderr)
            for name, pointer in sorted(found & KNOWN_DEAD_POINTERS):
                print(f"  {name}: {pointer}", file=sys.stderr)
        self.assertEqual(new, [], "paths named in these files do not exist (file, path)")
        self.assertEqual(fixed, [], "no longer dead: take these off KNOWN_DEAD_POINTERS")

    def test_the_scan_finds_a_dead_pointer(self):
        """The scanner itself: a made-up path in a scanned file is reported, a URL, a glob and a
        placeholder are not."""
        sample = (
            "See scripts/no-such-script.sh and `functions/<name>/src/main.rs`, functions/*,\n"
            "https://example.com/scripts/elsewhere.sh, tests/browser/node_modules/x.js\n"
            "and $ROOT/local/no-such-file.py.\n")
        found = {pointer for name, pointer in dead_pointers([("sample.md", sample)]) if name == "sample.md"}
        self.assertEqual(found, {"scripts/no-such-script.sh", "local/no-such-file.py"})


if __name__ == "__main__":
    unittest.main()


class ModuleCycleTest(unittest.TestCase):
    """`local/module_cycles.py`, the README's check that no crate's modules depend in a circle."""

    def test_no_crate_has_a_module_cycle(self):
        result = run(sys.executable, "local/module_cycles.py")
        self.assertEqual(result.returncode, 0, result.stderr)
        # It read the crates: the shop's own module dependencies are in its graph.
        self.assertIn("shared/catalog: api -> products", result.stdout)

    def test_a_cycle_is_found_through_grouped_uses_and_super(self):
        sys.path.insert(0, str(ROOT / "local"))
        import module_cycles

        with tempfile.TemporaryDirectory() as directory:
            source = Path(directory)
            (source / "lib.rs").write_text("pub mod a;\npub mod b;\npub mod c;\n")
            (source / "a.rs").write_text("use crate::{b::Thing, c};\n")
            (source / "b.rs").write_text("pub struct Thing;\nfn f() { super::a::g(); }\n")
            (source / "c.rs").write_text(
                "// crate::a in a comment is no dependency\n"
                "#[cfg(test)]\nmod tests {\n    use crate::a::*;\n}\n"
            )
            graph = module_cycles.module_graph(source)
            self.assertEqual(graph, {"a": {"b", "c"}, "b": {"a"}, "c": set()})
            self.assertEqual(module_cycles.cycles(graph), [["a", "b"]])
