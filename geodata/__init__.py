"""Geodata for Parkwacht: reference data and the seeded, fictional demo region."""
