"""What the query editor page needs: the endpoint, the graph's prefixes, the canned queries.

Prefixes are the usual vocabularies plus k2d3's own and any ``sh:declare`` prefix declarations
stored in the graph; the examples are the canned-query catalogue
(``https://w3id.org/k2d3/graph/queries``: ``sh:select`` / ``sh:ask`` / ``sh:construct`` /
``sh:describe`` with an English ``rdfs:label``). An empty catalogue gives no examples.
"""

from __future__ import annotations

from typing import Any

from pyoxigraph import Store

from .config import Settings

SH = "http://www.w3.org/ns/shacl#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"

STANDARD_PREFIXES = {
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": RDFS,
    "owl": "http://www.w3.org/2002/07/owl#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "dcterms": "http://purl.org/dc/terms/",
    "prov": "http://www.w3.org/ns/prov#",
    "schema": "https://schema.org/",
    "sh": SH,
    "void": "http://rdfs.org/ns/void#",
}


def prefixes(store: Store, settings: Settings) -> dict[str, str]:
    """Prefix -> namespace for the editor: standard ones, k2d3's, then ``sh:declare`` ones."""
    ns = settings.ns
    out = dict(STANDARD_PREFIXES)
    out.update({"k2d3": ns.vocab, "k2di": ns.resource, "k2dq": ns.queries})
    rows: Any = store.query(
        f"SELECT DISTINCT ?p ?n {{ ?d <{SH}prefix> ?p ; <{SH}namespace> ?n }}",
        use_default_graph_as_union=True)
    for row in rows:
        out.setdefault(row["p"].value, row["n"].value)
    return out


def examples(store: Store, settings: Settings) -> list[dict[str, str]]:
    """The canned queries as ``{"label", "query"}``, in label order."""
    rows: Any = store.query(
        f"""SELECT ?q (SAMPLE(?text) AS ?t) (SAMPLE(?l) AS ?label) WHERE {{
          GRAPH <{settings.ns.graph("queries")}> {{
            ?q <{SH}select>|<{SH}ask>|<{SH}construct>|<{SH}describe> ?text .
            OPTIONAL {{ ?q <{RDFS}label> ?l FILTER(langMatches(lang(?l), "en")) }}
            OPTIONAL {{ ?e <https://schema.org/target> ?q ;
                           <{RDFS}label> ?l FILTER(langMatches(lang(?l), "en")) }}
          }} }} GROUP BY ?q""")
    found = [{"label": row["label"].value if row["label"] else row["q"].value.rsplit("/", 1)[-1],
              "query": row["t"].value} for row in rows]
    return sorted(found, key=lambda ex: ex["label"].lower())


def context(store: Store, settings: Settings, endpoint: str) -> dict[str, Any]:
    """Template variables for ``sparql.html``."""
    config = {"endpoint": endpoint, "prefixes": prefixes(store, settings),
              "examples": examples(store, settings)}
    return {"endpoint": endpoint, "config": config, "examples": config["examples"],
            "max_rows": settings.max_rows, "timeout": f"{settings.query_timeout:g}"}
