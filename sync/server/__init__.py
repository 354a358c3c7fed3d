"""The reference central server: HTTP API (FastAPI) over SQLite or PostgreSQL (SQLAlchemy Core).

Imports :mod:`sync.protocol` and nothing of the station.
"""
