"""Files written so that nothing is lost: atomic writes, fresh outputs.

Every file is written under a temporary name in its final directory and
renamed over the target, so an interruption at any moment leaves either the
old or the new version, never half a file. The temporary name is unique but
not created in advance (as `mkstemp` would, with mode 0600), so the writer
creates the file with the user's usual permissions.
"""

import os
import pathlib
import shutil
import uuid

from tfp_videoflow import errors


def atomic_write(path, write, unique=True):
    """Calls `write(tmp_path)` and renames the result to `path`.

    `tmp_path` keeps the suffix of `path`, for writers that choose the
    format by it. It is unique, or, with `unique=False`, always the same
    for `path`, so that the next write replaces what a killed process left
    behind. Returns `path` as a `pathlib.Path`.

    A failure to write (`OSError`: disk full, read-only or removed folder)
    raises `errors.WriteError` naming `path` and the cause.
    """
    path = pathlib.Path(path)
    tag = uuid.uuid4().hex if unique else "tmp"
    tmp = path.with_name(f".{path.stem}.{tag}{path.suffix}")
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException as error:
        try:
            if tmp.is_dir():
                shutil.rmtree(tmp, ignore_errors=True)
            else:
                tmp.unlink(missing_ok=True)
        except OSError:  # the folder itself may be gone or unreadable
            pass
        if isinstance(error, OSError) and not isinstance(
                error, errors.WriteError):
            raise errors.WriteError(path, error) from error
        raise
    return path


def make_dirs(path):
    """`path.mkdir(parents=True, exist_ok=True)`; `errors.WriteError` if not."""
    path = pathlib.Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise errors.WriteError(path, error) from error
    return path


def atomic_write_text(path, text):
    """Writes `text` to `path` so that readers see the old or the new file."""
    def write(tmp):
        with open(tmp, "x", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())

    return atomic_write(path, write)


def atomic_save_model(model, path):
    """`model.save(path)` through a temporary file and an atomic rename.

    Models are large: the temporary name is fixed, so a save killed half way
    leaves at most one stray file, which the next save replaces.
    """
    return atomic_write(path, model.save, unique=False)


def check_new_output(path):
    """Raises `FileExistsError` unless `path` is new or an empty directory."""
    path = pathlib.Path(path)
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise FileExistsError(f"{path} exists and is not an empty directory; "
                              "choose a new one so nothing is overwritten.")
    return path
