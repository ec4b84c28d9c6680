"""Applicant accounts: citizens and businesses sign in through OpenID Connect.

An applicant is never a django.contrib.auth User: the session carries the account id
under its own key (session.py), so no check written for staff (the admin, the API's
permissions, request.user.is_authenticated) can ever let an applicant through.
"""
