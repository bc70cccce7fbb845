"""Test settings: the real settings, read from the same environment, with fast hashing
and email kept in memory (the outside world is the one thing tests fake)."""

import os

os.environ.setdefault("DJANGO_DEBUG", "1")
os.environ.setdefault(
    "CASEDESK_VAR_DIR", os.path.join(os.path.dirname(__file__), "..", "var", "test")
)

from casedesk.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
