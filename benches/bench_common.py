"""Helpers shared by the benchmark scripts: the venv, timing a command, the CPU's name."""

from __future__ import annotations

import importlib
import tempfile
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

VENV_PYTHON = Path(__file__).resolve().parent / ".venv/bin/python"


def ensure_modules(modules: list[str]) -> None:
    """Import `modules`, re-executing the script under benches/.venv if this interpreter lacks them."""
    try:
        for m in modules:
            importlib.import_module(m)
    except ImportError:
        # The venv's python is a symlink to the base interpreter, so compare prefixes, not paths.
        if VENV_PYTHON.exists() and Path(sys.prefix).resolve() != VENV_PYTHON.parent.parent.resolve() \
                and not os.environ.get("WFM_BENCH_REEXEC"):
            os.environ["WFM_BENCH_REEXEC"] = "1"
            os.execv(str(VENV_PYTHON), [str(VENV_PYTHON), *sys.argv])
        raise SystemExit(f"{', '.join(modules)} missing: python3 -m venv benches/.venv && "
                         "benches/.venv/bin/pip install -r benches/requirements.txt")


def timed(cmd: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one command. The RSS comes from /usr/bin/time: a forked
    child's ru_maxrss would include this Python process's memory from before the exec."""
    t = time.perf_counter()
    proc = subprocess.run(["/usr/bin/time", "-f", "%M"] + cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {proc.stderr.decode()}")
    return wall, int(proc.stderr.decode().strip().splitlines()[-1]) / 1024


def cpu_model() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        for line in out.splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def work_dir(requested: str | None, prefix: str) -> tuple[Path, str | None]:
    """The working directory: `requested` (created), else a fresh temporary one, returned second
    so that the caller removes it."""
    if requested:
        work = Path(requested)
        work.mkdir(parents=True, exist_ok=True)
        return work, None
    tmp = tempfile.mkdtemp(prefix=prefix)
    return Path(tmp), tmp
