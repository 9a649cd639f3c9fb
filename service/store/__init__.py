"""Persistence: tables, migrations and the :class:`Store` handle."""
from .database import ParkGeometries, Store
from . import schema

__all__ = ["Store", "ParkGeometries", "schema"]
