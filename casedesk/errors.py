"""What a service refuses, in sentences a person can act on."""


class CaseError(Exception):
    """A case action was refused; str(error) is shown to the person who tried it, with
    http_status as the response's status."""

    http_status = 400


class CaseConflict(CaseError):
    """Someone else changed the case first; the caller should look at it again."""

    http_status = 409


class NotPermitted(CaseError):
    """This actor may not take this action on this case."""

    http_status = 403


class InvalidTransition(CaseError):
    """The case's state, or missing information, does not allow this action now."""


class TooManyRequests(CaseError):
    """The actor has done this too often in a short time; later it will be accepted."""

    http_status = 429
