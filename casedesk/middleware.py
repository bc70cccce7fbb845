"""Refuse input the site cannot read or store, in one place, before any view reads it.

A body in a character set other than UTF-8 (or one nobody knows) cannot be read as a form:
Django refuses it with BadRequest, and its 400 page then runs the CSRF check, which reads
the body again and raises once more, so the visitor got a 500 (Django ticket #34709). Any
other body Django refuses to parse (too many fields, too large) took the same road. The
body's character set is checked before anything reads it, and a refused parse answers our
own 400 here, so no later step reads the body again.

PostgreSQL's text columns refuse the NUL character (and psycopg cannot encode a lone
surrogate), so such a value reaching a query is a DataError: a 500 for what is only bad
input. Django's own decoding turns invalid UTF-8 into U+FFFD, so NUL is what arrives in
practice; surrogates are checked too because they cost nothing to check.
"""

import codecs
import re

from django.core.exceptions import BadRequest, SuspiciousOperation
from django.http import Http404
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import render

UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
FORM = "application/x-www-form-urlencoded"


def _unstorable(text: str) -> bool:
    return UNSTORABLE.search(text) is not None


def _unreadable_charset(request) -> str | None:
    """The body's declared character set if we cannot read the body in it, else None.

    An unknown name would be ignored by Django (it reads UTF-8 instead, garbling the
    text); a form body (urlencoded) is UTF-8 by definition, so any other set is refused.
    Multipart bodies may declare a known set: Django decodes their fields with it.
    """
    charset = request.content_params.get("charset")
    if charset is None:
        return None
    try:
        name = codecs.lookup(charset).name
    except LookupError:
        return charset
    if request.content_type == FORM and name != "utf-8":
        return charset
    return None


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
        charset = _unreadable_charset(request)
        if charset is not None:
            return _refuse(request, charset=charset[:40])
        try:
            form, files = request.POST, request.FILES
        except (BadRequest, SuspiciousOperation, MultiPartParserError):
            return _refuse(request, unparsable=True)
        for where, params in (("address", request.GET), ("form", form)):
            for name, values in params.lists():
                if _unstorable(name) or any(_unstorable(v) for v in values):
                    return _refuse(request, where=where, field=name)
        for name, upload in files.items():
            if _unstorable(upload.name):
                return _refuse(request, where="uploaded file's name", field=name)
        return self.get_response(request)


def _refuse(request, *, where: str = "", field: str = "", charset: str = "", unparsable=False):
    """Our 400 page, saying what was wrong (never echoing a NUL back)."""
    if charset:
        problem = "charset"
    elif unparsable:
        problem = "unparsable"
    else:
        problem = "nul"
    context = {
        "problem": problem,
        "where": where,
        "field": None if _unstorable(field) else field,
        "charset": None if _unstorable(charset) else charset,
    }
    return render(request, "bad_input.html", context, status=400)
