"""Everything specbias writes to disk or prints as JSON, made safe in one place (used by every layer).

- `dumps`: strict JSON (RFC 8259): NaN and ±inf are written as `null`, numpy scalars and arrays as
  plain numbers and lists. Every `--json` output and every JSON file uses it.
- `check_name`: a report name is one path component (no separators, not `.`/`..`, not hidden, not
  empty, printable), so `reports/NAME` can never point outside `reports/`.
- `check_dir`: an output folder must be a folder, or creatable, and writable: probed before compute.
- `Staged`: writes a folder atomically. The new content goes to `ROOT/.NAME.tmp-PID-xxxx` (mode from
  the user's umask, not mkdtemp's 0700) and is renamed into place; an existing `ROOT/NAME` is replaced
  only if it carries the MARKER file specbias wrote into it, otherwise the write is refused.
  Temporaries of runs that were killed (SIGKILL, power loss) are removed by the next run into the
  same ROOT: only folders named `.NAME.tmp-PID-*` / `.NAME.old-PID` whose PID is dead and that carry
  the marker (or are empty).
"""
from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from pathlib import Path

import numpy as np

from .errors import SpecbiasError

MARKER = ".specbias"
_STALE = re.compile(r"^\.(?P<name>.+)\.(?:tmp|old)-(?P<pid>\d+)(?:-.*)?$")


# ---- strict JSON ----------------------------------------------------------------------------------
def strict(x):
    """A JSON-able copy of x: NaN/inf → None, numpy scalars/arrays → Python numbers/lists."""
    if isinstance(x, dict):
        return {str(k): strict(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [strict(v) for v in x]
    if isinstance(x, np.ndarray):
        return strict(x.tolist())
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        return float(x) if np.isfinite(x) else None
    return x


def dumps(x, **kw) -> str:
    """Strict JSON text of x (see `strict`); other objects fall back to str()."""
    return json.dumps(strict(x), allow_nan=False, default=str, **kw)


# ---- names and places -----------------------------------------------------------------------------
def check_name(name, what: str = "name") -> str:
    """A report name: one visible path component, so it stays inside its output folder."""
    if not isinstance(name, str) or not name.strip():
        raise SpecbiasError(f"{what} must be a non-empty folder name (got {name!r})")
    bad = [c for c in ("/", "\\", os.sep, os.altsep or "/") if c in name]
    if bad or name in (".", "..") or name.startswith(".") or not name.isprintable():
        raise SpecbiasError(f"{what} must be a plain folder name: no path separators, not '.' or '..', "
                            f"not starting with '.', printable (got {name!r})")
    return name


def check_dir(path, what: str = "out") -> Path:
    """An output folder: an existing writable folder, or creatable under a writable one (probed by
    creating and removing a temporary file; nothing else is created)."""
    if not isinstance(path, (str, os.PathLike)) or not str(path).strip() or "\x00" in str(path):
        raise SpecbiasError(f"{what} must be a folder path (got {path!r})")
    p = Path(path)
    probe = p
    while not probe.exists():
        if probe.is_symlink():
            raise SpecbiasError(f"{what} {path} is a dangling symbolic link")
        if probe.parent == probe:
            break
        probe = probe.parent
    if not probe.is_dir():
        where = "" if probe == p else f": {probe}"
        raise SpecbiasError(f"{what} {path}{where} exists and is not a folder")
    try:
        fd, name = tempfile.mkstemp(prefix=".specbias-probe-", dir=probe)
        os.close(fd)
        os.unlink(name)
    except OSError as exc:
        raise SpecbiasError(f"{what} {path} is not writable ({exc.strerror or exc})") from None
    return p


def check_file(path, what: str = "out") -> Path:
    """An output file: not an existing folder, in a folder that check_dir accepts (probed, nothing
    created), so a bad path is refused before the work that would write it."""
    if not isinstance(path, (str, os.PathLike)) or not str(path).strip() or "\x00" in str(path):
        raise SpecbiasError(f"{what} must be a file path (got {path!r})")
    p = Path(path)
    if p.is_dir():
        raise SpecbiasError(f"{what} {path} is a folder, not a file")
    check_dir(p.parent if str(p.parent) else ".", what)
    return p


# ---- folders specbias owns --------------------------------------------------------------------------
def write_atomic(path, data) -> Path:
    """Write one file atomically, the one helper for it: `data` (bytes, or a callable filling a binary file
    object) goes to a temporary file beside `path`, is flushed to disk and renamed into place; on any
    failure the temporary file is removed and `path` keeps its old content. Creates the parent folder."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.tmp-{os.getpid()}-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            data(fh) if callable(data) else fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def mark(folder, name: str, kind: str = "report") -> None:
    """Write the marker that says specbias made `folder` (deterministic content: no time, no pid)."""
    (Path(folder) / MARKER).write_text(dumps({"written_by": "specbias", "kind": kind, "name": name},
                                             sort_keys=True) + "\n")


def is_ours(folder) -> bool:
    """True for a real folder (not a link) holding a marker specbias wrote."""
    folder = Path(folder)
    m = folder / MARKER
    if folder.is_symlink() or not folder.is_dir() or m.is_symlink() or not m.is_file():
        return False
    try:
        return json.loads(m.read_text()).get("written_by") == "specbias"
    except (OSError, ValueError, AttributeError):
        return False


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True  # exists (another user's), or cannot tell: keep
    return True


def clean_stale(root, name: str) -> list[Path]:
    """Remove `.NAME.tmp-PID-*` / `.NAME.old-PID` folders left by dead runs (ours only); returns them."""
    removed = []
    root = Path(root)
    if not root.is_dir():
        return removed
    for entry in root.iterdir():
        m = _STALE.match(entry.name)
        if not m or m.group("name") != name or entry.is_symlink() or not entry.is_dir():
            continue
        if _pid_alive(int(m.group("pid"))):
            continue
        if is_ours(entry):
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
        elif not any(entry.iterdir()):  # killed between mkdtemp and the marker: empty, safe to remove
            entry.rmdir()
            removed.append(entry)
    return removed


def prepare(root, name: str, what: str = "name") -> Path:
    """Check, before any compute, that ROOT/NAME may be written: a valid name, a writable root, and no
    existing ROOT/NAME that specbias did not write. Removes stale temporaries. Returns ROOT/NAME."""
    check_name(name, what)
    root = check_dir(root, "out")
    final = root / name
    if (final.exists() or final.is_symlink()) and not is_ours(final):
        raise SpecbiasError(f"{final} exists and was not written by specbias (no {MARKER} marker): "
                            f"refusing to replace it; choose another {what} or move it away")
    clean_stale(root, name)
    return final


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


class Staged:
    """`with Staged(root, name) as tmp:` write into tmp; on success it replaces ROOT/NAME atomically
    (an old report is renamed aside, then removed); on any exception tmp is removed, ROOT/NAME kept."""

    def __init__(self, root, name: str, kind: str = "report"):
        self.final = prepare(root, name)
        self.root, self.name, self.kind = Path(root), name, kind
        self.tmp = None

    def __enter__(self) -> Path:
        self.root.mkdir(parents=True, exist_ok=True)
        self.tmp = Path(tempfile.mkdtemp(prefix=f".{self.name}.tmp-{os.getpid()}-", dir=self.root))
        os.chmod(self.tmp, 0o777 & ~_umask())
        mark(self.tmp, self.name, self.kind)
        return self.tmp

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            try:
                self._replace()
                return
            except BaseException:
                shutil.rmtree(self.tmp, ignore_errors=True)
                raise
        shutil.rmtree(self.tmp, ignore_errors=True)

    def _replace(self) -> None:
        final, old = self.final, None
        if final.exists() or final.is_symlink():
            if not is_ours(final):  # it appeared or changed while we computed
                raise SpecbiasError(f"{final} was not written by specbias (no {MARKER} marker): "
                                    "refusing to replace it")
            old = final.with_name(f".{final.name}.old-{os.getpid()}")
            final.rename(old)
        self.tmp.rename(final)
        if old is not None:
            shutil.rmtree(old)
