"""Request parsing per the SPARQL 1.1 Protocol (server.http.protocol), case by case."""

from __future__ import annotations

import pytest
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from server import errors
from server.http.protocol import authorize_write, parse


def make(method: str = "GET", query: dict | None = None, data: bytes | str | None = None,
         content_type: str | None = None) -> Request:
    builder = EnvironBuilder(path="/sparql", method=method, query_string=query, data=data,
                             content_type=content_type)
    return Request(builder.get_environ())


def test_get_query_with_dataset() -> None:
    req = parse(make(query=[("query", "ASK {}"), ("default-graph-uri", "http://a"),
                            ("default-graph-uri", "http://b"), ("named-graph-uri", "http://c")]))
    assert (req.operation, req.text) == ("query", "ASK {}")
    assert req.default_graphs == ("http://a", "http://b")
    assert req.named_graphs == ("http://c",)


def test_get_without_query_is_the_service_description() -> None:
    assert parse(make()).operation == "description"


def test_post_form_query_keeps_url_dataset() -> None:
    req = parse(make("POST", {"default-graph-uri": "http://a"}, "query=ASK%20%7B%7D",
                     "application/x-www-form-urlencoded"))
    assert (req.operation, req.text, req.default_graphs) == ("query", "ASK {}", ("http://a",))


def test_post_direct_query_and_update() -> None:
    assert parse(make("POST", None, "ASK {}", "application/sparql-query")).text == "ASK {}"
    upd = parse(make("POST", None, "CLEAR ALL", "application/sparql-update"))
    assert (upd.operation, upd.text) == ("update", "CLEAR ALL")


def test_update_form_with_charset_parameter() -> None:
    req = parse(make("POST", None, "update=CLEAR+ALL",
                     "application/x-www-form-urlencoded; charset=UTF-8"))
    assert (req.operation, req.text) == ("update", "CLEAR ALL")


def test_timeout_and_format_parameters() -> None:
    req = parse(make(query={"query": "ASK {}", "timeout": "2.5", "format": "xml"}))
    assert (req.timeout, req.format) == (2.5, "xml")


def test_using_graph_uri_is_written_into_the_update() -> None:
    req = parse(make("POST", {"using-graph-uri": "http://g", "using-named-graph-uri": "http://n"},
                     "INSERT { ?s ?p 1 } WHERE { ?s ?p ?o }", "application/sparql-update"))
    assert "USING <http://g> USING NAMED <http://n> WHERE" in req.text


@pytest.mark.parametrize(("request_args", "error", "words"), [
    (("PUT", None, "ASK {}", "application/sparql-query"), errors.MethodNotAllowed, "PUT"),
    (("GET", {"update": "CLEAR ALL"}), errors.MethodNotAllowed, "POST"),
    (("GET", [("query", "ASK {}"), ("query", "ASK {}")]), errors.BadRequest, "2 times"),
    (("POST", None, "query=ASK%20%7B%7D&query=ASK%20%7B%7D",
      "application/x-www-form-urlencoded"), errors.BadRequest, "2 times"),
    (("POST", None, "update=CLEAR+ALL&update=CLEAR+ALL", "application/x-www-form-urlencoded"),
     errors.BadRequest, "2 times"),
    (("POST", None, "query=ASK%20%7B%7D&update=CLEAR+ALL", "application/x-www-form-urlencoded"),
     errors.BadRequest, "not both"),
    (("POST", None, "x=1", "application/x-www-form-urlencoded"), errors.BadRequest, "neither"),
    (("POST", None, "ASK {}", "text/plain"), errors.UnsupportedMediaType, "text/plain"),
    (("POST", None, "ASK {}", None), errors.UnsupportedMediaType, "Content-Type"),
    (("POST", None, b"ASK { ?s ?p \"\xff\" }", "application/sparql-query"), errors.BadRequest,
     "UTF-8"),
    (("POST", None, b"CLEAR GRAPH <http://\xe9>", "application/sparql-update"),
     errors.BadRequest, "UTF-8"),
    (("POST", None, "query=ASK%20%7B%20%22%FF%22%20%7D", "application/x-www-form-urlencoded"),
     errors.BadRequest, "UTF-8"),
    (("GET", {"query": "ASK {}", "timeout": "soon"}), errors.BadRequest, "timeout"),
    (("GET", {"query": "ASK {}", "timeout": "-1"}), errors.BadRequest, "timeout"),
    (("POST", {"using-graph-uri": "http://g"}, "WITH <http://w> DELETE { ?s ?p ?o } WHERE "
      "{ ?s ?p ?o }", "application/sparql-update"), errors.BadRequest, "conflict"),
    (("POST", {"using-named-graph-uri": "http://g"}, "INSERT { ?s ?p 1 } USING <http://u> "
      "WHERE { ?s ?p ?o }", "application/sparql-update"), errors.BadRequest, "conflict"),
])
def test_protocol_errors(request_args: tuple, error: type, words: str) -> None:
    with pytest.raises(error) as caught:
        parse(make(*request_args))
    assert words in caught.value.message
    assert 400 <= caught.value.status < 500


def test_using_in_a_string_is_no_conflict() -> None:
    req = parse(make("POST", {"using-graph-uri": "http://g"},
                     'INSERT { ?s ?p "WITH USING" } WHERE { ?s ?p ?o }',
                     "application/sparql-update"))
    assert "USING <http://g> WHERE" in req.text


@pytest.mark.parametrize(("token", "header", "error"), [
    (None, "Bearer x", errors.Forbidden),
    ("secret", None, errors.Unauthorized),
    ("secret", "Basic c2VjcmV0", errors.Unauthorized),
    ("secret", "Bearer wrong", errors.Forbidden),
])
def test_write_authorisation_refused(token: str | None, header: str | None, error: type) -> None:
    with pytest.raises(error):
        authorize_write(token, header)


def test_write_authorisation_accepted() -> None:
    authorize_write("secret", "Bearer secret")
    authorize_write("secret", "bearer  secret ")
