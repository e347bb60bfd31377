"""The portal's JSON API blueprints under /api/v1."""

from __future__ import annotations

import json
import math
import sys
from typing import Any

import flask_smorest
from flask import Request
from webargs import missing
from webargs.flaskparser import FlaskParser


def read_json(body: bytes) -> Any:
    """A request body's JSON. Integers too long for Python to read (over 4,300 digits) become
    ±infinity, which the schemas and services refuse naming the field, where Python's int()
    would have failed the request with a 500; raises ValueError for a body that is not JSON."""
    text = body.decode("utf-8")
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        raise
    except ValueError:
        return json.loads(text, parse_int=_integer)


class JsonParser(FlaskParser):
    """webargs' Flask parser, reading request bodies with read_json."""

    def _raw_load_json(self, req: Request) -> Any:
        if not req.is_json:
            return missing
        return read_json(req.get_data(cache=True))


def _integer(text: str) -> int | float:
    """A JSON integer, or ±infinity for one too long for Python to read."""
    if len(text) <= sys.get_int_max_str_digits():
        return int(text)
    return -math.inf if text.startswith("-") else math.inf


class Blueprint(flask_smorest.Blueprint):
    """A blueprint of the API: request bodies are read by JsonParser."""

    ARGUMENTS_PARSER = JsonParser()
