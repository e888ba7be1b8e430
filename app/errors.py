"""The application's user-facing error: printed as one line, exit code 1."""


class UserError(Exception):
    """An error whose message is for the user (names the cause and what to do)."""
