"""Dossiers: ORM models, the state machine and the services that write them."""
