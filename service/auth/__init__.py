"""Who may use Parkwacht: users, passwords, bearer tokens, web sessions, and enforcing each route's role.

``users``, ``passwords`` and ``tokens`` are core (no Flask: the CLI and the tests use them directly);
``guard`` (the one place where roles are enforced, a ``before_request`` hook), ``sessions``, ``trail`` and
``views`` (login and logout) are the Flask edge. This package ``__init__`` imports neither, so importing
``service.auth.users`` never loads Flask.
"""
