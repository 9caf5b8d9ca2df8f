#!/usr/bin/env python3
"""Package sizes for the benchmark: `package_sizes.py OUT.json DIST_DIR NAME=BINARY...`

For each binary: its size as built, its size stripped (a stripped copy, if `strip` exists),
and the size of the Lambda package made from it (the binary as built, zipped as `bootstrap`
with deflate level 9, as cargo-lambda zips). Also the deployed package that
`cargo lambda build --release --arm64 --output-format zip` leaves in lambda/<name>/bootstrap.zip
of cargo's target dir, with the architecture read from its ELF header, marked stale when it
is older than the measured binary.
"""

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Where cargo (and cargo lambda) put what they build.
TARGET_DIR = Path(os.environ.get("CARGO_TARGET_DIR") or ROOT / "target")
# ELF e_machine values.
ARCHES = {0x3E: "x86_64", 0xB7: "arm64"}


def elf_arch(header):
    if header[:4] != b"\x7fELF":
        return "?"
    return ARCHES.get(int.from_bytes(header[18:20], "little"), "?")


def package(name, binary, dist):
    folder = dist / name
    folder.mkdir(parents=True, exist_ok=True)
    stripped = folder / "bootstrap.stripped"
    shutil.copyfile(binary, stripped)
    if shutil.which("strip"):
        subprocess.run(["strip", "--strip-all", str(stripped)], check=True)
    archive = folder / "bootstrap.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zipped:
        info = zipfile.ZipInfo("bootstrap")
        info.external_attr = 0o100755 << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        zipped.writestr(info, binary.read_bytes(), compresslevel=9)
    figures = {
        "binary": str(binary),
        "binary_bytes": binary.stat().st_size,
        "stripped_bytes": stripped.stat().st_size,
        "zip_bytes": archive.stat().st_size,
        "arch": elf_arch(binary.read_bytes()[:20]),
        "deployed_zip": None,
    }
    deployed = TARGET_DIR / "lambda" / name / "bootstrap.zip"
    if deployed.is_file():
        with zipfile.ZipFile(deployed) as zipped:
            with zipped.open("bootstrap") as bootstrap:
                arch = elf_arch(bootstrap.read(20))
        figures["deployed_zip"] = {
            "path": str(deployed),
            "bytes": deployed.stat().st_size,
            "arch": arch,
            # Built before the measured binary: not of the code measured.
            "stale": deployed.stat().st_mtime < binary.stat().st_mtime,
        }
    return figures


def main():
    out, dist, pairs = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3:]
    functions = {}
    for pair in pairs:
        name, binary = pair.split("=", 1)
        functions[name] = package(name, Path(binary), dist)
    out.write_text(json.dumps({"functions": functions}, indent=2) + "\n")


if __name__ == "__main__":
    main()
