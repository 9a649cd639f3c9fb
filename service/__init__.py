"""Parkwacht: geospatial risk mapping of Dutch holiday parks.

The core (``config``, ``vocab``, ``geo``, ``spatial``, ``store``, ``reads``, ``ingest``, ``scoring``, ``maps``)
never imports Flask; the web app is built by :func:`service.app.create_app`, and the ``parkwacht`` command
lives in :mod:`service.cli`. Importing this package loads nothing else.
"""
