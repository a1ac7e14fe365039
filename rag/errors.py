"""Errors a user can cause. The CLI and the API turn them into one clear message, never a traceback."""


class UserError(Exception):
    """Something the user can fix: the message says what is wrong and what to do."""


class IndexMissing(UserError):
    pass


class IndexIncompatible(UserError):
    pass
