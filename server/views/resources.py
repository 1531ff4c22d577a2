"""Placeholder blueprint: being written."""

from flask import Blueprint

bp = Blueprint("resources", __name__)
