"""Refuse text the database cannot store, in one place, before any view reads it.

PostgreSQL's text columns refuse the NUL character (and psycopg cannot encode a lone
surrogate), so such a value reaching a query is a DataError: a 500 for what is only bad
input. Django's own decoding turns invalid UTF-8 into U+FFFD, so NUL is what arrives in
practice; surrogates are checked too because they cost nothing to check.
"""

import re

from django.http import Http404
from django.shortcuts import render

UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _unstorable(text: str) -> bool:
    return UNSTORABLE.search(text) is not None


class RefuseUnstorableInputMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if _unstorable(request.path_info):
            # A reference, token or id with a NUL in it names nothing that can exist.
            raise Http404("No page has a NUL character in its address.")
        # A broken cookie is dropped rather than refused: refusing would lock the browser
        # out of the site until its owner finds out how to clear cookies.
        for name in [n for n, v in request.COOKIES.items() if _unstorable(n + v)]:
            del request.COOKIES[name]
        for where, params in (("address", request.GET), ("form", request.POST)):
            for name, values in params.lists():
                if _unstorable(name) or any(_unstorable(v) for v in values):
                    return _refuse(request, where=where, field=name)
        for name, upload in request.FILES.items():
            if _unstorable(upload.name):
                return _refuse(request, where="uploaded file's name", field=name)
        return self.get_response(request)


def _refuse(request, *, where: str, field: str):
    context = {"where": where, "field": None if _unstorable(field) else field}
    return render(request, "bad_input.html", context, status=400)
