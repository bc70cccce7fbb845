"""What a service refuses, in sentences a person can act on."""


class CaseError(Exception):
    """A case action was refused; str(error) is shown to the person who tried it."""


class CaseConflict(CaseError):
    """Someone else changed the case first; the caller should look at it again."""


class NotPermitted(CaseError):
    """This actor may not take this action on this case."""


class InvalidTransition(CaseError):
    """The case's state, or missing information, does not allow this action now."""
