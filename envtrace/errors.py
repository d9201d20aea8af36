"""Exceptions that the command line turns into a one-line message and exit status 2."""


class InputError(Exception):
    """Unusable input: a missing file, no recognisable columns, an unreadable encoding.

    The message is one line, meant for the user; the CLI prints it and exits with 2.
    """
