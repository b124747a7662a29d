"""One exception type for every user-facing input error, so the CLI can print it as one line."""


class SpecbiasError(ValueError):
    """Bad input: the message is a complete, single-line explanation meant for the user."""
