"""One writer per run folder: a lock file held while `train` runs.

The lock is `train.lock` in the run folder, created with O_CREAT | O_EXCL
(so exactly one process can create it) and holding the owner's pid, host
name and start time as JSON. It is removed when training ends, however it
ends; a process killed with SIGKILL leaves it behind. Such a lock is stale
when it names this host and a pid that no longer runs: the next `train`
says so and takes it over. A lock of another host cannot be checked from
here, so it is refused, with the way out in the message. Readers
(`evaluate`, `sample`) never look at it.
"""

import json
import os
import socket
import time
import uuid

NAME = "train.lock"


class LockError(Exception):
    """The run folder is locked by a training that still runs (or may)."""


def _owner():
    return {"pid": os.getpid(), "hostname": socket.gethostname(),
            "started": time.strftime("%Y-%m-%d %H:%M:%S %Z")}


def _read(path):
    """The owner recorded in the lock file; {} if unreadable; None if gone."""
    try:
        with open(path, encoding="utf-8") as f:
            owner = json.load(f)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except (OSError, ValueError):
        return {}
    return owner if isinstance(owner, dict) else {}


def _alive(pid):
    """Whether process `pid` of this host exists."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def _is_stale(owner):
    return (isinstance(owner.get("pid"), int)
            and owner.get("hostname") == socket.gethostname()
            and not _alive(owner["pid"]))


def describe(owner):
    if not owner:
        return "an unknown process (the lock file cannot be read)"
    return (f"process {owner.get('pid')} on {owner.get('hostname')} "
            f"(started {owner.get('started')})")


def check_free(folder):
    """Raises `LockError` if a live training holds `folder`'s lock."""
    path = os.path.join(folder, NAME)
    owner = _read(path)
    if owner is not None and not _is_stale(owner):
        raise LockError(_held_message(path, owner))


def _held_message(path, owner):
    return (f"{os.path.dirname(path)} is in use: training by "
            f"{describe(owner)} holds {path}; wait for it to finish (or, if "
            "no such process runs any more, delete the lock file).")


class RunLock:
    """The lock of one run folder; `with RunLock(folder):` holds it."""

    def __init__(self, folder):
        self.path = os.path.join(os.fspath(folder), NAME)
        self.owner = None
        self.took_over = None  # the stale owner replaced, if any

    def acquire(self):
        """Creates the lock; takes over a stale one; `LockError` if held."""
        try:
            self._create()
        except FileExistsError:
            owner = _read(self.path)
            if owner is not None and not _is_stale(owner):
                raise LockError(_held_message(self.path, owner)) from None
            self._remove_stale(owner)
            self.took_over = owner
            try:
                self._create()
            except FileExistsError:  # another process was quicker
                raise LockError(_held_message(
                    self.path, _read(self.path) or {})) from None
        return self

    def _create(self):
        fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        owner = _owner()
        try:
            os.write(fd, json.dumps(owner).encode("utf-8"))
            os.fsync(fd)
        except BaseException:
            os.close(fd)
            os.unlink(self.path)
            raise
        os.close(fd)
        self.owner = owner

    def _remove_stale(self, owner):
        """Moves the stale lock aside, unless another process already did."""
        if owner is None:  # removed meanwhile
            return
        aside = f"{self.path}.{uuid.uuid4().hex}"
        try:
            os.rename(self.path, aside)
        except FileNotFoundError:
            return
        # Between reading and moving, another process may have taken over
        # and created a fresh lock: then that one is put back.
        if _read(aside) != owner:
            try:
                os.link(aside, self.path)
            except FileExistsError:
                pass
            os.unlink(aside)
            raise LockError(_held_message(self.path, _read(self.path) or {}))
        os.unlink(aside)

    def release(self):
        """Removes the lock if it is still this process's."""
        if self.owner is not None and _read(self.path) == self.owner:
            os.unlink(self.path)
        self.owner = None

    def __enter__(self):
        return self.acquire() if self.owner is None else self

    def __exit__(self, *exc_info):
        self.release()
