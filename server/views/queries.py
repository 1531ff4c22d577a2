"""Placeholder blueprint: being written."""

from flask import Blueprint

bp = Blueprint("queries", __name__)
