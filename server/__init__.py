"""The central server: HTTP API (FastAPI) over SQLite or PostgreSQL (SQLAlchemy Core).

Installed on its own (``server/pyproject.toml``: the ``rma-server`` distribution):
it imports :mod:`sync.protocol` and nothing else of the station, and needs
neither Textual nor OpenCV.
"""
