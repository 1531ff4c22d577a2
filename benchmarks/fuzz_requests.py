"""Generated HTTP requests for ``benchmarks/fuzz.py``: mutated canned queries, random methods,
paths, query strings, headers, content types and bodies.

Pure: :func:`request` draws one :class:`Request` from a ``random.Random``, so a run is
reproduced by its seed. Most requests are near misses of real ones (a canned query with a few
characters changed, a known route with a strange parameter), since those reach deepest.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlencode

ROOT = Path(__file__).resolve().parent.parent
QUERIES = sorted(ROOT.glob("queries/*.rq")) + sorted(ROOT.glob("queries/checks/*.rq"))
#: Each canned query file as written, and its query alone (without the ``#+`` header).
CANNED = [p.read_text(encoding="utf-8") for p in QUERIES]
BODIES = ["\n".join(line for line in text.splitlines() if not line.startswith("#+"))
          for text in CANNED]
NAMES = [p.stem for p in sorted(ROOT.glob("queries/*.rq"))]

#: Pieces a mutation inserts: keywords, brackets, escapes, strings, IRIs, the tricks the
#: pre-check must read as pyoxigraph does.
SNIPPETS = [
    "SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o }", "LOAD <http://127.0.0.1:9/x>", "{", "}",
    "(", ")", "[", "]", "<<", ">>", "<<(", ")>>", "\\u0053ERVICE", "\\UFFFFFFFF", "\\u00", "'",
    '"', "'''", '"""', "#", "\n", "?x", "$y", "<urn:x>", "<", ">", "FILTER(",
    "BIND(<urn:f>(1) AS ?f)", "UNION", "OPTIONAL", "MINUS", "||", "&&", "!", "+1", "*", "/",
    "^", "a", ":", "_:b", "@en",
    "1e99999", "-0.0", "\"x\"^^<http://www.w3.org/2001/XMLSchema#integer>", "LIMIT 0", "OFFSET 1",
    "GROUP BY ?x", "ORDER BY DESC(?s)", "VALUES ?v { 1 2 }", "FROM <urn:g>", "GRAPH ?g { }",
    "SELECT * {", "ASK {", "CONSTRUCT WHERE {", "DESCRIBE <urn:x>",
    "INSERT DATA { <urn:a> <urn:b> 1 }", "CLEAR SILENT GRAPH <urn:g>", "\x00", "\udcff", "é",
    "中", "\t", "?s ?p ?o .",
    "REGEX(?s, '(a+)+$')", "STRLEN(?s)", "SUBSTR('abc', 999999999)", "xsd:dateTime('x')",
]
#: Canned-query parameters, and values to give them.
PARAMS = ["outcome", "population", "intervention", "entity", "limit", "lang", "q", "value", "class"]
VALUES = ["", "k2di:osteocalcin", "x", "javascript:alert(1)", "http://e/%zz", "1", "-1",
          "99999999999999999999"]
ROUTES = ["/sparql", "/store", "/", "/queries", "/queries/evidence-map", "/id/osteocalcin",
          "/id/vitamin-k2", "/id/", "/id/nope", "/ontology", "/ontology/0.1", "/graph/data",
          "/graph/void", "/graph/nope", "/dataset", "/.well-known/void", "/source", "/shapes",
          "/dumps/", "/dumps/SHA256SUMS", "/dumps/k2d3.nq.gz", "/healthz", "/metrics",
          "/static/queries.css", "/favicon.ico", "/robots.txt"]
METHODS = ["GET"] * 16 + ["POST"] * 6 + ["HEAD"] * 2 + ["PUT", "DELETE", "OPTIONS", "PATCH",
                                                        "TRACE", "PROPFIND", "get"]
ACCEPTS = ["*/*", "text/html", "application/sparql-results+json", "application/sparql-results+xml",
           "text/csv", "text/tab-separated-values", "text/turtle", "application/ld+json",
           "application/rdf+xml", "application/n-triples", "application/n-quads",
           "application/trig", "application/json", "image/png", "text/*;q=0.5, */*;q=0",
           "application/sparql-results+json;q=abc", ",,,;;;", "text/html;level=1;q=2"]
CONTENT_TYPES = ["application/sparql-query", "application/sparql-update",
                 "application/x-www-form-urlencoded", "text/turtle", "application/n-triples",
                 "application/ld+json", "application/rdf+xml", "application/trig",
                 "multipart/form-data; boundary=XyZ", "text/plain", "application/octet-stream",
                 "application/sparql-query; charset=latin-1", "", ";", "text/turtle; q=x"]
RDF = {
    "text/turtle": '@prefix e: <http://e/> . e:s e:p "x" , ( 1 2 [ e:q e:r ] ) .',
    "application/n-triples": '<http://e/s> <http://e/p> "x"@en .\n',
    "application/ld+json": '{"@id": "http://e/s", "http://e/p": [{"@value": "x"}, {"@id": "_:b"}]}',
    "application/rdf+xml": ('<?xml version="1.0"?><!DOCTYPE r [<!ENTITY e "http://e/">]><rdf:RDF '
                            'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
                            'xmlns:e="http://e/"><rdf:Description rdf:about="&e;s"><e:p>x</e:p>'
                            '</rdf:Description></rdf:RDF>'),
    "application/trig": ("<http://e/g> { <http://e/s> <http://e/p> "
                         "<<( <http://e/a> <http://e/b> 1 )>> }"),
}


@dataclass
class Request:
    method: str
    target: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None

    def describe(self) -> dict[str, object]:
        """The request as JSON, to replay it (the body cut at 4 KB)."""
        body = None if self.body is None else self.body[:4096].decode("utf-8", "replace")
        return {"method": self.method, "target": self.target, "headers": self.headers,
                "body": body, "body_bytes": None if self.body is None else len(self.body)}


def mutate(rng: random.Random, text: str) -> str:
    """``text`` with a few random edits: characters dropped, changed or duplicated, a snippet
    inserted, a stretch repeated, or the text cut."""
    for _ in range(rng.choice([0, 1, 1, 2, 3, 5])):
        i = rng.randrange(len(text) + 1)
        edit = rng.random()
        if edit < 0.25:
            text = text[:i] + text[i + rng.randint(1, 8):]
        elif edit < 0.55:
            text = text[:i] + rng.choice(SNIPPETS) + text[i:]
        elif edit < 0.7:
            char = chr(rng.choice([rng.randint(32, 126), rng.randint(0, 0x2FFF)]))
            text = text[:i] + char + text[i:]
        elif edit < 0.85:
            j = min(len(text), i + rng.randint(1, 40))
            text = text[:i] + text[i:j] * rng.choice([2, 10, 200]) + text[j:]
        else:
            text = text[:i]
    return text


def sparql_text(rng: random.Random) -> str:
    if rng.random() < 0.1:
        return "".join(rng.choice(SNIPPETS) for _ in range(rng.randint(1, 30)))
    source = rng.choice(CANNED if rng.random() < 0.3 else BODIES)
    return mutate(rng, source)


def query_string(rng: random.Random, route: str, text: str) -> str:
    pairs: list[tuple[str, str]] = []
    if route == "/sparql" and rng.random() < 0.8:
        pairs.append(("query" if rng.random() < 0.85 else "update", text))
    if route.startswith("/queries/"):
        pairs += [(rng.choice(PARAMS), rng.choice(VALUES)) for _ in range(rng.randint(0, 3))]
    extras = [("timeout", rng.choice(["1", "2", "0.5", "nan", "-1", "1e9", "abc", ""])),
              ("format", rng.choice(["json", "xml", "csv", "tsv", "ttl", "jsonld", "rdf", "nt",
                                     "html", "bogus", ""])),
              ("default-graph-uri", rng.choice(["", "urn:g", "not an iri", "http://e/%"])),
              ("named-graph-uri", "urn:g"),
              ("graph", rng.choice(["http://e/g", "", "rel", "urn:x"])),
              ("default", ""), ("lang", rng.choice(["zh", "en", "xx", ""])),
              ("using-graph-uri", "urn:g")]
    pairs += rng.sample(extras, rng.choice([0, 0, 1, 1, 2, 3]))
    encoded = urlencode(pairs, errors="surrogatepass")  # a lone surrogate: bytes not UTF-8
    if rng.random() < 0.05:  # raw bytes or broken escapes
        encoded += rng.choice(["&%", "&x=%zz", "&%C3%A9=1", "&a=%ff%fe", "&&&=",
                               "&q=" + "a" * 9000])
    return encoded


def body(rng: random.Random, content_type: str, text: str) -> bytes | None:
    kind = content_type.split(";")[0].strip()
    if kind in RDF and rng.random() < 0.8:
        payload = RDF[kind] if rng.random() < 0.5 else mutate(rng, RDF[kind])
    elif kind == "application/x-www-form-urlencoded":
        payload = urlencode([(rng.choice(["query", "update", "query", "x"]), text)],
                            errors="surrogatepass")
    elif kind.startswith("multipart/"):
        part = RDF["text/turtle"] if rng.random() < 0.7 else text
        payload = ('--XyZ\r\nContent-Disposition: form-data; name="f"; filename="a.ttl"\r\n'
                   f"Content-Type: text/turtle\r\n\r\n{part}\r\n--XyZ--\r\n")
    elif rng.random() < 0.05:
        return bytes(rng.randrange(256) for _ in range(rng.randint(0, 300)))
    else:
        payload = text
    return payload.encode("utf-8", "surrogatepass")


def request(rng: random.Random, host: str, token: str) -> Request:
    """One generated request (``host`` for the ``Host`` header, ``token`` for writes)."""
    method = rng.choice(METHODS)
    route = rng.choice(["/sparql"] * 10 + ["/store"] * 3 + ["/queries/" + n for n in NAMES]
                       + ROUTES)
    if rng.random() < 0.05:
        odd = quote(mutate(rng, rng.choice(NAMES)), errors="surrogatepass")
        route = rng.choice(["/" + quote(rng.choice(SNIPPETS), errors="surrogatepass"),
                            "/id/" + "x" * 3000, "/%2e%2e/etc", "/store/a%20b", "/queries/" + odd,
                            "//", "/sparql/", "/%00", "/id/%C0%AF"])
    text = sparql_text(rng)
    target = route
    if (method in {"GET", "HEAD", "get"} or rng.random() < 0.3) and (
            qs := query_string(rng, route, text)):
        target += "?" + qs
    headers = {"Host": host if rng.random() > 0.02 else "evil.example"}
    if rng.random() < 0.8:
        headers["Accept"] = rng.choice(ACCEPTS)
    if rng.random() < 0.3:
        headers["Authorization"] = rng.choice([f"Bearer {token}"] * 3 + ["Bearer nope", "Basic x"])
    if rng.random() < 0.1:
        headers[rng.choice(["If-None-Match", "If-Match"])] = rng.choice(['"x"', "*", 'W/"1-a"', ""])
    if rng.random() < 0.05:
        headers[rng.choice(["Accept-Language", "Range", "X-Forwarded-Host", "Origin", "Cookie",
                            "Content-Encoding"])] = rng.choice(["zh", "bytes=0-1", "evil", "gzip",
                                                                "x" * 500])
    data = None
    if method in {"POST", "PUT", "PATCH", "DELETE"} or rng.random() < 0.05:
        content_type = rng.choice(CONTENT_TYPES)
        if content_type:
            headers["Content-Type"] = content_type
        data = body(rng, content_type, text)
    return Request(method, target, headers, data)
