"""Shared plumbing that belongs to no app: CSV exports, the client's address."""
