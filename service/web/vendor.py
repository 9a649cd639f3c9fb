"""Install the front-end files the pages serve themselves into ``service/static/vendor`` (gitignored).

Run after ``npm ci`` (which installs the exact versions of ``package-lock.json`` into ``node_modules``)::

    python -m service.web.vendor            # copy node_modules/... and folium's bundled files
    python -m service.web.vendor --check    # exit 1 when a file is missing

The list of files is :data:`service.maps.VENDOR_FILES`, the same table the map builder maps Folium's CDN
assets onto, so a file the pages use can never be left out of the install.
"""
from __future__ import annotations

import argparse
import importlib.util
import shutil
import sys
from pathlib import Path

from ..config import PROJECT_ROOT
from ..maps import VENDOR_FILES, VendorFile

__all__ = ["VENDOR_DIR", "install", "missing", "main"]

VENDOR_DIR = PROJECT_ROOT / "service" / "static" / "vendor"


def _origin_root(origin: str, node_modules: Path) -> Path:
    kind, _, name = origin.partition(":")
    if kind == "npm":
        return node_modules / name
    if kind == "py":
        spec = importlib.util.find_spec(name)
        if spec is None or not spec.submodule_search_locations:
            raise FileNotFoundError(f"Python package {name!r} is not installed")
        return Path(list(spec.submodule_search_locations)[0])
    raise ValueError(f"unknown origin {origin!r}")


def _target(f: VendorFile, dest: Path) -> Path:
    return dest / f.target


def missing(dest: Path = VENDOR_DIR) -> list[str]:
    """The vendor files not (or not completely) installed under ``dest``."""
    out = []
    for f in VENDOR_FILES:
        t = _target(f, dest)
        if f.source.endswith("/"):
            if not t.is_dir() or not any(t.iterdir()):
                out.append(f.target)
        elif not t.is_file():
            out.append(f.target)
    return out


def install(node_modules: Path = PROJECT_ROOT / "node_modules", dest: Path = VENDOR_DIR) -> int:
    """Copy every vendor file into ``dest``; returns the number of files copied."""
    copied = 0
    for f in VENDOR_FILES:
        src = _origin_root(f.origin, node_modules) / f.source
        target = _target(f, dest)
        if f.source.endswith("/"):
            if not src.is_dir():
                raise FileNotFoundError(f"{src} is missing: run `npm ci` first")
            shutil.copytree(src, target, dirs_exist_ok=True)
            copied += sum(1 for p in src.rglob("*") if p.is_file())
        else:
            if not src.is_file():
                raise FileNotFoundError(f"{src} is missing: run `npm ci` first")
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, target)
            copied += 1
    return copied


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m service.web.vendor", description=__doc__.splitlines()[0])
    parser.add_argument("--node-modules", type=Path, default=PROJECT_ROOT / "node_modules")
    parser.add_argument("--dest", type=Path, default=VENDOR_DIR)
    parser.add_argument("--check", action="store_true", help="only check that every file is installed")
    args = parser.parse_args(argv)
    if args.check:
        gone = missing(args.dest)
        for name in gone:
            print(f"missing: {name}", file=sys.stderr)
        return 1 if gone else 0
    n = install(args.node_modules, args.dest)
    print(f"installed {n} front-end files into {args.dest}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
