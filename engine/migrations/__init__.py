"""Alembic migrations of the DossierSCO schema (run by the app at start, or ``upgrade``)."""
