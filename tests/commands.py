"""Running a management command in a test, with its exit status and output."""

import io

from django.core.management import CommandError, call_command


def run(*args):
    """(exit status, stdout, stderr) of `manage.py *args`; a CommandError is status 1."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(*args, stdout=out, stderr=err)
    except CommandError as exc:
        return 1, out.getvalue(), err.getvalue() + str(exc)
    return 0, out.getvalue(), err.getvalue()
