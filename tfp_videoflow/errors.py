"""The package's error types (kept apart so that no module imports a
cycle: `cli` parses and reports, `commands` does the work and raises)."""

import os


def first_line(error):
    """The first line of `error`'s message, or its type's name without one:
    what a one-line message quotes of an error from deeper down."""
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


class UsageError(Exception):
    """A problem with the user's input: printed as one line, exit status 2."""


class WriteError(OSError):
    """A file could not be written (disk full, read-only or removed folder).

    One line naming the file and the cause; the command line prints it
    and exits with status 2. `path` is the file, `errno` the cause's.
    """

    def __init__(self, path, error):
        cause = (os.strerror(error.errno) if error.errno
                 else str(error) or type(error).__name__)
        super().__init__(f"cannot write {path}: {cause} (an earlier "
                         f"version of it, if any, is kept unchanged).")
        self.path = path
        self.errno = error.errno
