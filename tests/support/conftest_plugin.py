"""Shared pytest fixtures (PostgreSQL harness etc.)."""
