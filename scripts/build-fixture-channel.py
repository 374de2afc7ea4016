#!/usr/bin/env python3
"""Build the fixture conda channel from the C sources in tests/fixtures/channel-src.

Usage: scripts/build-fixture-channel.py OUTDIR

Writes OUTDIR/linux-64 and OUTDIR/noarch, each with a repodata.json and its packages.
Both folders are deleted and written again on every run, and nothing else in OUTDIR is
touched. The output is byte-for-byte reproducible on one machine: tar members have fixed
times, owners and order, the repodata `timestamp` is fixed, and gcc gets no build paths.

Needs Python 3 (standard library only), gcc, ar and zstd (for the one `.conda` package).
See docs/fixture-channel.md for the packages and what they prove.
"""

import bz2
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

SOURCE_DIR = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "channel-src"

# The prefix placeholder that conda-build writes into packages. Installers replace it
# with the target prefix: in text files as is, in binary files padded with NUL bytes.
PREFIX_PLACEHOLDER = "/opt/anaconda1anaconda2anaconda3"

# 2023-11-14T22:13:20Z, in milliseconds as conda writes the `timestamp` field.
TIMESTAMP_MS = 1_700_000_000_000
# Modification time of every tar and zip member, in seconds.
MEMBER_MTIME = TIMESTAMP_MS // 1000

LICENSE = "Apache-2.0"


class FixtureBuildError(Exception):
    """A failed build step. The message names the step and its output."""


def run(command, cwd):
    """Run a command in cwd and raise FixtureBuildError with its output when it fails."""
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    if result.returncode != 0:
        raise FixtureBuildError(
            f"command failed with exit code {result.returncode}: {' '.join(command)}\n"
            f"{result.stdout}{result.stderr}"
        )


def compile_flags(work_dir):
    """Return gcc flags that keep build paths and dates out of the output."""
    return [
        "-O2",
        "-Wall",
        "-Werror",
        f"-ffile-prefix-map={work_dir}=.",
        "-Wl,--build-id=sha1",
    ]


class Package:
    """A conda package to write: its metadata and the contents of its files."""

    def __init__(self, name, version, subdir, depends, noarch=None, build_number=0):
        self.name = name
        self.version = version
        self.subdir = subdir
        self.depends = depends
        self.noarch = noarch
        self.build_number = build_number
        self.build = str(build_number)
        self.files = {}  # relative path -> (bytes, mode)
        self.symlinks = {}  # relative path -> link target

    @property
    def stem(self):
        return f"{self.name}-{self.version}-{self.build}"

    def add_file(self, path, data, mode=0o644):
        self.files[path] = (data, mode)

    def index_json(self):
        index = {
            "arch": "x86_64" if self.subdir == "linux-64" else None,
            "build": self.build,
            "build_number": self.build_number,
            "depends": self.depends,
            "license": LICENSE,
            "name": self.name,
            "platform": "linux" if self.subdir == "linux-64" else None,
            "subdir": self.subdir,
            "timestamp": TIMESTAMP_MS,
            "version": self.version,
        }
        if self.noarch:
            index["noarch"] = self.noarch
        return index

    def repodata_record(self, archive):
        record = {
            "build": self.build,
            "build_number": self.build_number,
            "depends": self.depends,
            "license": LICENSE,
            "md5": hashlib.md5(archive).hexdigest(),
            "name": self.name,
            "sha256": hashlib.sha256(archive).hexdigest(),
            "size": len(archive),
            "subdir": self.subdir,
            "timestamp": TIMESTAMP_MS,
            "version": self.version,
        }
        if self.noarch:
            record["noarch"] = self.noarch
        return record


def placeholder_mode(data):
    """Return "text" or "binary" when data contains the prefix placeholder, else None.

    A file that contains a NUL byte counts as binary.
    """
    if PREFIX_PLACEHOLDER.encode() not in data:
        return None
    return "binary" if b"\0" in data else "text"


def info_files(package):
    """Return the info/ files of a package (paths.json, files, has_prefix, index.json)."""
    paths = []
    has_prefix_lines = []
    for path in sorted(set(package.files) | set(package.symlinks)):
        if path in package.symlinks:
            paths.append({"_path": path, "path_type": "softlink"})
            continue
        data, _mode = package.files[path]
        entry = {
            "_path": path,
            "path_type": "hardlink",
            "sha256": hashlib.sha256(data).hexdigest(),
            "size_in_bytes": len(data),
        }
        mode = placeholder_mode(data)
        if mode:
            entry["file_mode"] = mode
            entry["prefix_placeholder"] = PREFIX_PLACEHOLDER
            has_prefix_lines.append(f"{PREFIX_PLACEHOLDER} {mode} {path}\n")
        paths.append(entry)

    files = {
        "info/index.json": to_json(package.index_json()),
        "info/paths.json": to_json({"paths": paths, "paths_version": 1}),
        "info/files": "".join(f"{entry['_path']}\n" for entry in paths).encode(),
        "info/about.json": to_json({"license": LICENSE, "summary": f"{package.name} test fixture"}),
    }
    if has_prefix_lines:
        files["info/has_prefix"] = "".join(has_prefix_lines).encode()
    return files


def to_json(value):
    return (json.dumps(value, indent=2, sort_keys=True) + "\n").encode()


def tar_bytes(files, symlinks):
    """Return an uncompressed tar of files ({path: (bytes, mode)}) and symlinks, sorted by path."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for path in sorted(set(files) | set(symlinks)):
            member = tarfile.TarInfo(path)
            member.mtime = MEMBER_MTIME
            member.uid = member.gid = 0
            member.uname = member.gname = ""
            if path in symlinks:
                member.type = tarfile.SYMTYPE
                member.linkname = symlinks[path]
                member.mode = 0o777
                tar.addfile(member)
            else:
                data, mode = files[path]
                member.size = len(data)
                member.mode = mode
                tar.addfile(member, io.BytesIO(data))
    return buffer.getvalue()


def write_tar_bz2(package, subdir_path):
    """Write package as <stem>.tar.bz2 and return the archive bytes."""
    info = {path: (data, 0o644) for path, data in info_files(package).items()}
    tar = tar_bytes({**package.files, **info}, package.symlinks)
    archive = bz2.compress(tar, compresslevel=9)
    (subdir_path / f"{package.stem}.tar.bz2").write_bytes(archive)
    return archive


def zstd_compress(data):
    """Compress with the zstd command line tool (Python 3.11 has no zstd module)."""
    if shutil.which("zstd") is None:
        raise FixtureBuildError("zstd not found on PATH; it is needed for the .conda package")
    result = subprocess.run(
        ["zstd", "-q", "-19", "-c"], input=data, capture_output=True, check=False
    )
    if result.returncode != 0:
        raise FixtureBuildError(f"zstd failed: {result.stderr.decode(errors='replace')}")
    return result.stdout


def write_conda(package, subdir_path):
    """Write package in the `.conda` format (a stored zip of two .tar.zst) and return it."""
    info = {path: (data, 0o644) for path, data in info_files(package).items()}
    members = [
        ("metadata.json", to_json({"conda_pkg_format_version": 2})),
        (f"info-{package.stem}.tar.zst", zstd_compress(tar_bytes(info, {}))),
        (f"pkg-{package.stem}.tar.zst", zstd_compress(tar_bytes(package.files, package.symlinks))),
    ]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, data in members:
            member = zipfile.ZipInfo(name, date_time=(2023, 11, 14, 22, 13, 20))
            member.external_attr = 0o644 << 16
            archive.writestr(member, data)
    archive = buffer.getvalue()
    (subdir_path / f"{package.stem}.conda").write_bytes(archive)
    return archive


def build_libgreet(work_dir, version):
    """Compile libgreet VERSION: a shared library with SONAME, a static library and a header."""
    major = version.split(".")[0]
    build_dir = work_dir / f"libgreet-{version}"
    build_dir.mkdir()
    for name in ("greet.c", "greet.h"):
        shutil.copyfile(SOURCE_DIR / "libgreet" / name, build_dir / name)

    flags = compile_flags(build_dir) + [f'-DGREET_VERSION="{version}"']
    run(["gcc", *flags, "-fPIC", "-c", "greet.c", "-o", "greet.o"], build_dir)
    soname = f"libgreet.so.{major}"
    run(["gcc", *flags, "-shared", f"-Wl,-soname,{soname}", "greet.o", "-o", soname], build_dir)
    # D: deterministic mode (zero times, owners and modes in the archive index).
    run(["ar", "rcsD", "libgreet.a", "greet.o"], build_dir)

    package = Package("libgreet", version, "linux-64", depends=[])
    package.add_file(f"lib/{soname}", (build_dir / soname).read_bytes(), 0o755)
    package.symlinks["lib/libgreet.so"] = soname
    package.add_file("lib/libgreet.a", (build_dir / "libgreet.a").read_bytes())
    package.add_file("include/greet.h", (build_dir / "greet.h").read_bytes())
    return package, build_dir


def build_greet(work_dir, libgreet_dir):
    """Compile the greet program against libgreet, with the RPATH $ORIGIN/../lib."""
    build_dir = work_dir / "greet"
    build_dir.mkdir()
    shutil.copyfile(SOURCE_DIR / "greet" / "greet.c", build_dir / "greet.c")
    flags = compile_flags(build_dir) + [f"-I{libgreet_dir}", f"-ffile-prefix-map={libgreet_dir}=."]
    # The build folder has no libgreet.so symlink, so link by the exact file name.
    run(
        [
            "gcc",
            *flags,
            "greet.c",
            "-o",
            "greet",
            f"-L{libgreet_dir}",
            "-l:libgreet.so.2",
            # $ORIGIN is literal here: no shell expands it, and the loader resolves it.
            "-Wl,-rpath,$ORIGIN/../lib",
            "-Wl,--disable-new-dtags",
        ],
        build_dir,
    )

    package = Package("greet", "1.0", "linux-64", depends=["greet-data", "libgreet >=2"])
    package.add_file("bin/greet", (build_dir / "greet").read_bytes(), 0o755)
    package.add_file("etc/greet.conf", (SOURCE_DIR / "greet" / "greet.conf").read_bytes())
    return package


def build_greet_data():
    package = Package("greet-data", "1.0", "noarch", depends=[], noarch="generic")
    package.add_file(
        "share/greet/message.txt", (SOURCE_DIR / "greet-data" / "message.txt").read_bytes()
    )
    return package


def write_repodata(subdir_path, subdir, tar_bz2_records, conda_records):
    repodata = {
        "info": {"subdir": subdir},
        "packages": tar_bz2_records,
        "packages.conda": conda_records,
        "removed": [],
        "repodata_version": 1,
    }
    (subdir_path / "repodata.json").write_bytes(to_json(repodata))


def build_channel(out_dir):
    with tempfile.TemporaryDirectory(prefix="fixture-channel-") as temp:
        work_dir = Path(temp)
        libgreet_1, _ = build_libgreet(work_dir, "1.0")
        libgreet_2, libgreet_2_dir = build_libgreet(work_dir, "2.0")
        greet = build_greet(work_dir, libgreet_2_dir)
        greet_data = build_greet_data()

        out_dir.mkdir(parents=True, exist_ok=True)
        records = {"linux-64": ({}, {}), "noarch": ({}, {})}
        for subdir in records:
            shutil.rmtree(out_dir / subdir, ignore_errors=True)
            (out_dir / subdir).mkdir()

        for package in (libgreet_1, libgreet_2, greet):
            archive = write_tar_bz2(package, out_dir / package.subdir)
            records[package.subdir][0][f"{package.stem}.tar.bz2"] = package.repodata_record(archive)

        # greet-data exists only as .conda, so a solve of greet reads both formats.
        archive = write_conda(greet_data, out_dir / "noarch")
        records["noarch"][1][f"{greet_data.stem}.conda"] = greet_data.repodata_record(archive)

        for subdir, (tar_bz2_records, conda_records) in records.items():
            write_repodata(out_dir / subdir, subdir, tar_bz2_records, conda_records)


def main(argv):
    if len(argv) != 2 or argv[1].startswith("-"):
        print(f"usage: {argv[0]} OUTDIR", file=sys.stderr)
        return 2
    # A fixed locale and SOURCE_DATE_EPOCH keep tool output the same on every run.
    os.environ["LC_ALL"] = "C"
    os.environ["SOURCE_DATE_EPOCH"] = str(MEMBER_MTIME)
    try:
        build_channel(Path(argv[1]).resolve())
    except FixtureBuildError as error:
        print(f"build-fixture-channel: {error}", file=sys.stderr)
        return 1
    print(f"fixture channel written to {Path(argv[1]).resolve()}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
