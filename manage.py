#!/usr/bin/env python
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "casedesk.settings")
    # manage.py is the development entry point: debug unless said otherwise. The production
    # processes (gunicorn via wsgi.py, Celery) stay strict: no secret key, no start.
    os.environ.setdefault("DJANGO_DEBUG", "1")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
