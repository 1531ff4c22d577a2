"""What the query editor page (``/sparql``) needs, read from the store: prefixes, examples, terms.

- Prefixes: the one prefix table (``labels.prefixes``) plus any ``sh:declare`` declaration the
  catalogue stores. The editor's starting query declares those of the vocabularies the graph
  uses (the namespaces of its predicates and classes, and k2d3's own); the rest are offered by
  autocompletion and by the error help when a query uses one undeclared.
- Examples: the canned queries of the catalogue graph (``https://w3id.org/k2d3/graph/queries``,
  those with a title), not the helper queries that list a parameter's values
  (``NAME#param-X-values``, reached by ``rdfs:seeAlso`` from a parameter), titled in the page's
  language, in catalogue order (``schema:position``, then title).
- Terms: the classes and properties the ontology graph declares, for autocompletion and for the
  warning about a ``k2d3:`` name the ontology does not have.

A query over the whole store takes ~15 ms on the shipped graph (measured); the page is not on a
hot path, so nothing is cached.
"""

from __future__ import annotations

from typing import Any

from pyoxigraph import Store

from server.config import Settings
from server.pages import i18n
from server.rdf import labels
from server.rdf.vocab import OWL, RDF, RDFS, SCHEMA, SH

#: Ontology types offered as classes, and as properties, by autocompletion.
CLASS_TYPES = (OWL + "Class", RDFS + "Class")
PROPERTY_TYPES = (OWL + "ObjectProperty", OWL + "DatatypeProperty", OWL + "AnnotationProperty",
                  RDF + "Property")


def prefixes(store: Store, settings: Settings) -> dict[str, str]:
    """Prefix -> namespace: the one prefix table, then ``sh:declare`` ones from the store."""
    out = labels.prefixes(settings.ns)
    rows: Any = store.query(
        f"SELECT DISTINCT ?p ?n {{ ?d <{SH}prefix> ?p ; <{SH}namespace> ?n }}",
        use_default_graph_as_union=True)
    for row in rows:
        out.setdefault(row["p"].value, row["n"].value)
    return out


def used_prefixes(store: Store, settings: Settings, table: dict[str, str]) -> list[str]:
    """The prefixes of ``table`` whose namespace holds a predicate or class of the graph, and
    k2d3's vocabulary and instances, in ``table`` order."""
    rows: Any = store.query("SELECT DISTINCT ?i WHERE { { ?s ?i ?o } UNION { ?s a ?i } }",
                            use_default_graph_as_union=True)
    iris = [row["i"].value for row in rows]
    own = {settings.ns.vocab, settings.ns.resource}
    return [prefix for prefix, ns in table.items()
            if ns in own or any(i.startswith(ns) and len(i) > len(ns) for i in iris)]


def examples(store: Store, settings: Settings, lang: str) -> list[dict[str, str]]:
    """The canned queries as ``{"name", "title", "description", "query", "search"}``.

    ``title`` and ``description`` are in ``lang`` (else English); ``search`` is the casefolded
    text a filter box matches: the name, titles and descriptions in every language, keywords.
    """
    rows: Any = store.query(
        f"""SELECT ?q ?text ?position ?l ?c ?k WHERE {{
          GRAPH <{settings.ns.graph("queries")}> {{
            ?q <{SH}select>|<{SH}ask>|<{SH}construct>|<{SH}describe> ?text ; <{RDFS}label> ?l .
            FILTER NOT EXISTS {{ ?parameter <{RDFS}seeAlso> ?q }}
            OPTIONAL {{ ?q <{SCHEMA}position> ?position }}
            OPTIONAL {{ ?q <{RDFS}comment> ?c }}
            OPTIONAL {{ ?q <{SCHEMA}keywords> ?k }}
          }} }}""")
    found: dict[str, dict[str, Any]] = {}
    for row in rows:
        entry = found.setdefault(row["q"].value, {
            "text": row["text"].value, "titles": set(), "comments": set(), "keywords": set(),
            "position": int(row["position"].value) if row["position"] else 100})
        entry["titles"].add(row["l"])
        if row["c"] is not None:
            entry["comments"].add(row["c"])
        if row["k"] is not None:
            entry["keywords"].add(row["k"].value)
    out = [_example(iri, entry, lang) for iri, entry in found.items()]
    out.sort(key=lambda ex: (ex["position"], ex["title"].casefold()))
    for ex in out:
        del ex["position"]
    return out


def _example(iri: str, entry: dict[str, Any], lang: str) -> dict[str, Any]:
    name = iri.rsplit("/", 1)[-1]
    title = labels.pick_literal(entry["titles"], lang)
    comment = labels.pick_literal(entry["comments"], lang)
    words = [name, *(t.value for t in entry["titles"]), *(c.value for c in entry["comments"]),
             *sorted(entry["keywords"])]
    return {"name": name, "title": title.value if title else name,
            "description": comment.value if comment else "", "query": entry["text"],
            "search": " ".join(words).casefold(), "position": entry["position"]}


def terms(store: Store, settings: Settings, lang: str) -> list[dict[str, str]]:
    """The ontology's classes and properties as ``{"iri", "label", "kind"}`` (kind ``class`` or
    ``property``), sorted by IRI."""
    kinds = [("class", t) for t in CLASS_TYPES] + [("property", t) for t in PROPERTY_TYPES]
    values = " ".join(f"(<{t}> \"{kind}\")" for kind, t in kinds)
    rows: Any = store.query(
        f"""SELECT DISTINCT ?t ?kind WHERE {{ VALUES (?type ?kind) {{ {values} }}
          GRAPH <{settings.ns.graph("ontology")}> {{ ?t a ?type FILTER(isIRI(?t)) }} }}""")
    found = {row["t"].value: row["kind"].value for row in rows}
    return [{"iri": iri, "label": labels.label(store, iri, lang), "kind": kind}
            for iri, kind in sorted(found.items())]


def script_messages(lang: str) -> dict[str, str]:
    """The ``editor.js.*`` interface strings in ``lang``, keyed without that prefix."""
    return {key[len("editor.js."):]: value for key, value in i18n.messages(lang).items()
            if key.startswith("editor.js.")}


def context(store: Store, settings: Settings, endpoint: str, lang: str, root: str
            ) -> dict[str, Any]:
    """Template variables for ``sparql.html``; ``config`` goes to the page's script as JSON.

    ``root`` is the application's mount point (``request.script_root``): IRIs under the base
    link to ``root`` + their local path in the results.
    """
    table = prefixes(store, settings)
    found = examples(store, settings, lang)
    config = {
        "endpoint": endpoint, "lang": lang, "prefixes": table,
        "declared": used_prefixes(store, settings, table),
        "examples": [{"title": ex["title"], "query": ex["query"]} for ex in found],
        "terms": terms(store, settings, lang), "vocab": settings.ns.vocab,
        "base": settings.ns.base, "root": root, "messages": script_messages(lang),
    }
    return {"endpoint": endpoint, "config": config, "examples": found,
            "max_rows": settings.max_rows, "timeout": f"{settings.query_timeout:g}"}
