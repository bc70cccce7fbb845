"""Input PostgreSQL cannot store is refused at the door, once, rather than in every view.

A NUL byte in a URL, query string, form field or cookie makes PostgreSQL raise DataError
on the first query that uses it (a case reference, a search, a session key): a 500 in any
view that looks something up. Here it is a 400 that says why, before any view runs.
"""

from django.http import HttpResponseBadRequest

REFUSED = "\x00"


def _texts(request):
    yield request.path
    yield from request.COOKIES.keys()
    yield from request.COOKIES.values()
    forms = [request.GET, request.POST] if request.method == "POST" else [request.GET]
    for form in forms:
        for key, values in form.lists():
            yield key
            yield from values


class RefuseUnstorableInputMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if any(REFUSED in text for text in _texts(request)):
            return HttpResponseBadRequest(
                "This address or form contains a character that cannot be stored (a NUL "
                "byte). Remove it and try again.",
                content_type="text/plain; charset=utf-8",
            )
        return self.get_response(request)
