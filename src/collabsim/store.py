"""Writing results: atomic files, folders written as a unit, and a manifest of provenance.

Every file is written to a temporary name in the same folder and moved into place,
so an interrupted or failed write never leaves a half-written file or damages one
written before. An output of several files (``run --out``, ``compare --out``) is
written into a new sibling folder that then takes the old folder's place in one step
(:func:`replace_folder`): a reader sees the old output or the new one, never a mix.
Names that come from users become folder names only through :func:`folder_name`, and
reach CSV cells only through :func:`write_csv`.
"""

from __future__ import annotations

import ctypes
import errno
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from collabsim.errors import CONTROL, InputError

DEPENDENCIES = ("mesa", "numpy", "pandas", "scipy", "pyarrow", "matplotlib", "networkx", "SALib",
                "distributed")


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Call ``write(tmp)`` then move ``tmp`` to ``path`` in one step."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_parquet(df: pd.DataFrame, path: Path) -> None:
    """Write a DataFrame to Parquet atomically."""
    atomic_write(path, lambda tmp: df.to_parquet(tmp, index=False))


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # what spreadsheets read as a formula


def neutral(value: Any) -> Any:
    """A CSV cell no spreadsheet runs as a formula: such strings get a leading ``'``."""
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_START) else value


def write_csv(df: pd.DataFrame, path: Path) -> None:
    """Write a DataFrame to CSV atomically, every text cell and header made :func:`neutral`."""
    safe = df.rename(columns=lambda c: neutral(str(c)))
    text = safe.select_dtypes(include=["object", "string", "category"]).columns
    safe[text] = safe[text].astype(object).map(neutral)
    atomic_write(path, lambda tmp: safe.to_csv(tmp, index=False))


def write_json(obj: Any, path: Path) -> None:
    """Write JSON atomically (UTF-8, indented, NaN as null)."""
    text = json.dumps(obj, indent=2, default=_jsonable, allow_nan=False)
    atomic_write(path, lambda tmp: tmp.write_text(text + "\n", encoding="utf-8"))


def _jsonable(x: Any) -> Any:
    if hasattr(x, "item"):
        return x.item()
    if isinstance(x, Path):
        return str(x)
    raise TypeError(f"not JSON serialisable: {type(x).__name__}")


def sha256(text: str | bytes) -> str:
    """Hex SHA-256 of text or bytes."""
    data = text.encode("utf-8") if isinstance(text, str) else text
    return hashlib.sha256(data).hexdigest()


def versions() -> dict[str, str]:
    """Versions of collabsim, Python and the main dependencies."""
    out = {"python": platform.python_version()}
    for name in ("collabsim", *DEPENDENCIES):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def _git(cwd: Path | None, *args: str) -> str | None:
    """What ``git ARGS`` in ``cwd`` prints, stripped; None outside a repository or git."""
    try:
        res = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True,
                             timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return res.stdout.strip() if res.returncode == 0 else None


def git_commit(cwd: Path | None = None) -> str | None:
    """The current git commit of ``cwd``, or None outside a repository."""
    return _git(cwd, "rev-parse", "HEAD") or None


def git_dirty(cwd: Path | None = None) -> bool | None:
    """Whether tracked files in ``cwd``'s repository differ from its commit (None: unknown)."""
    status = _git(cwd, "status", "--porcelain", "--untracked-files=no")
    return None if status is None else bool(status)


# Output folders ------------------------------------------------------------------------------
REPLACEABLE = ("run", "compare")  # commands whose output folders a later run may replace
NAME_BYTES = 96  # longest folder name made from a user's name (UTF-8 bytes, before any suffix)
_UNSAFE = re.compile(f'[{CONTROL}/\\\\:*?"<>|]')
_DEVICES = {"con", "prn", "aux", "nul", *(f"{p}{i}" for p in ("com", "lpt") for i in range(1, 10))}


def folder_name(name: str) -> str:
    """A folder name made from a user's name: one portable path component, never hidden.

    Separators, control and reserved characters become ``_``; leading and trailing dots
    and spaces go (so no ``..`` and no hidden folder); the result is at most
    ``NAME_BYTES`` bytes; an empty name or a Windows device name gets a leading ``_``.
    """
    text = _UNSAFE.sub("_", unicodedata.normalize("NFC", name)).strip(" .")
    text = text.encode("utf-8")[:NAME_BYTES].decode("utf-8", errors="ignore").strip(" .")
    if not text or text.split(".")[0].lower() in _DEVICES:
        text = "_" + text
    return text


def unique(names: Sequence[str], suffix: str = "_{}") -> list[str]:
    """Names made distinct, ignoring case: repeated names are numbered with free suffixes.

    ``x, x, x_2`` gives ``x_1, x_3, x_2``: a name used once keeps it, and a number is
    skipped where it would collide, so nothing is written over or merged with another's.
    """
    def key(n: str) -> str:
        return unicodedata.normalize("NFC", n).casefold()

    counts = Counter(key(n) for n in names)
    taken = {key(n) for n in names if counts[key(n)] == 1}
    out = []
    for name in names:
        if counts[key(name)] == 1:
            out.append(name)
            continue
        k = 1
        while key(candidate := name + suffix.format(k)) in taken:
            k += 1
        taken.add(key(candidate))
        out.append(candidate)
    return out


def manifest_of(folder: Path) -> dict[str, Any]:
    """A results folder's ``manifest.json`` as a dict ({} if absent or unreadable)."""
    path = folder / "manifest.json"
    try:
        if path.is_file() and path.stat().st_size < 10_000_000:
            doc = json.loads(path.read_text(encoding="utf-8"))
            return doc if isinstance(doc, dict) else {}
    except (OSError, ValueError):
        pass
    return {}


def _unlisted(folder: Path, manifest: dict[str, Any]) -> Path | None:
    """The first entry of an output folder that its manifest does not list, if any.

    A ``run`` or ``compare`` manifest lists its ``files``; a run of several scenarios
    lists each scenario's ``folder``, which has a manifest of its own.
    """
    def names(values: Any) -> set[str]:
        return {v for v in values if isinstance(v, str)} if isinstance(values, list) else set()

    files = names(manifest.get("files")) | {"manifest.json"}
    entries = manifest.get("scenarios")
    folders = names([e.get("folder") for e in entries if isinstance(e, dict)]
                    if isinstance(entries, list) else [])
    for entry in sorted(folder.iterdir()):
        if entry.is_symlink():
            return entry
        if entry.is_file() and entry.name in files:
            continue
        if entry.is_dir() and entry.name in folders:
            inner = _unlisted(entry, manifest_of(entry))
            if inner is None:
                continue
            return inner
        if entry.is_dir():  # a table folder: every file in it must be listed
            stray = next((p for p in sorted(entry.rglob("*")) if p.is_symlink() or (
                p.is_file() and str(p.relative_to(folder)) not in files)), None)
            if stray is None and any(entry.iterdir()):
                continue
            return stray or entry
        return entry
    return None


def check_writable(out: Path) -> None:
    """Refuse an ``--out`` that is not a folder or cannot be written, before any work."""
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out}: exists and is not a folder")
    ancestor = out.absolute().parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise InputError(f"--out {out}: {ancestor} is not a folder, so nothing can be written "
                         "inside it")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise InputError(f"--out {out}: cannot write in {ancestor} (read-only or no "
                         "permission); choose another folder")


def check_out(out: Path, command: str, force: bool = True) -> None:
    """The one check of ``run --out`` and ``compare --out``, made before anything runs.

    ``out`` must be writable and either absent, empty, or an earlier ``run`` or
    ``compare`` output holding only what its manifest lists, which the new output
    replaces as a whole only with ``force`` (the commands' ``--force``); a sweep's
    folder, any other non-empty folder, or an output folder to which a file was added
    is refused, so nothing else is ever overwritten.
    """
    check_writable(out)
    if Path.cwd().is_relative_to(out.resolve()):
        raise InputError(f"--out {out}: holds the current folder, which {command} would "
                         "replace; choose a folder inside it")
    if not (out.is_dir() and any(out.iterdir())):
        return
    manifest = manifest_of(out)
    writer = manifest.get("command")
    if writer not in REPLACEABLE:
        held = (f"holds the results of a {writer}" if isinstance(writer, str) else
                "is not empty and holds no earlier run or compare output")
        raise InputError(f"--out {out}: {held}; {command} would overwrite it, so choose a new "
                         "or empty folder")
    extra = _unlisted(out, manifest)
    if extra is not None:
        raise InputError(f"--out {out}: holds {extra.relative_to(out)}, which no earlier "
                         f"{writer} wrote; {command} replaces the whole folder, so move it or "
                         "choose a new folder")
    if not force:
        raise InputError(f"--out {out}: holds an earlier {writer} output; add --force to "
                         "replace it, or choose another folder")


@contextmanager
def replace_folder(out: Path, command: str, force: bool = True) -> Iterator[Path]:
    """Write a folder as a unit: yield a new, empty sibling, then swap it in for ``out``.

    Checked with :func:`check_out` first. If the block fails (an error, a full disk,
    Ctrl-C), the sibling is removed and ``out`` is left exactly as it was.

    Raises:
        InputError: ``out`` is refused, or cannot be written (one line; nothing changed).
    """
    check_out(out, command, force)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        stage = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".part", dir=out.parent))
    except OSError as exc:
        raise InputError(f"--out {out}: cannot write ({exc.strerror or exc})") from None
    try:
        yield stage
        umask = os.umask(0)
        os.umask(umask)
        stage.chmod(0o777 & ~umask)
        _swap(stage, out)
    except OSError as exc:
        raise InputError(f"--out {out}: cannot write ({exc.strerror or exc}); the folder was "
                         "left as it was") from None
    finally:
        if stage.is_symlink():  # after a swap this holds the old output, which may be a link
            stage.unlink()
        else:
            shutil.rmtree(stage, ignore_errors=True)


def _swap(new: Path, out: Path) -> None:
    """Move folder ``new`` to ``out``; what was at ``out`` ends up at ``new``."""
    if not out.exists():
        os.rename(new, out)
        return
    if _exchange(new, out):
        return
    aside = new.with_name(new.name + ".old")  # no atomic exchange here: two renames
    os.rename(out, aside)
    os.rename(new, out)
    os.rename(aside, new)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux ``renameat2``); False where that is unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    renameat2 = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)
    if renameat2 is None:
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                          ctypes.c_uint]
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), str(b))
