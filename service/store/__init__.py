"""Persistence: tables, migrations and the :class:`Store` handle."""
from . import schema
from .database import ID_GROUP, ParkGeometries, Store, connection, in_groups

__all__ = ["Store", "ParkGeometries", "schema", "connection", "in_groups", "ID_GROUP"]
