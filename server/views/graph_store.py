"""Placeholder blueprint: being written."""

from flask import Blueprint

bp = Blueprint("graph_store", __name__)
