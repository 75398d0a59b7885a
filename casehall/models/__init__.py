"""Data shapes: ``payloads`` cross the Temporal boundary (workflow-safe); ``tables`` are the SQLModel tables."""
