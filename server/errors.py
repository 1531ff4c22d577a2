"""Placeholder: being written (error types and the handlers that turn them into responses)."""

from flask import Flask


def register(app: Flask) -> None:
    pass
