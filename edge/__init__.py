"""Edge handlers: contact form, chat proxy and client portal (ASGI).

This package never imports ``sitegen``; it reads the files the build writes
into ``dist/_edge/`` (see docs/architecture.md).
"""
