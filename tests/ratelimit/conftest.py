"""Fixtures of the rate limiter tests: a real redis-server (see tests/_redis_server.py)."""

from __future__ import annotations

from tests._redis_server import redis_server_factory, redis_url

__all__ = ["redis_server_factory", "redis_url"]
