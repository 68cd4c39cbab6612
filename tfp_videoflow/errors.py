"""The command line's error type (kept apart so that no module imports a
cycle: `cli` parses and reports, `commands` does the work and raises)."""


class UsageError(Exception):
    """A problem with the user's input: printed as one line, exit status 2."""
