"""The vocabularies k2d3 uses: one namespace IRI each, and the one prefix table.

Every module that needs a W3C or community vocabulary's IRI takes it from here (issue 14: they
were declared 35 times across 11 modules). k2d3's own namespaces depend on the configured base
and live in ``server.rdf.namespaces``.
"""

from __future__ import annotations

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
OWL = "http://www.w3.org/2002/07/owl#"
XSD = "http://www.w3.org/2001/XMLSchema#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
DCTERMS = "http://purl.org/dc/terms/"
DC = "http://purl.org/dc/elements/1.1/"
SH = "http://www.w3.org/ns/shacl#"
PROV = "http://www.w3.org/ns/prov#"
OA = "http://www.w3.org/ns/oa#"
VOID = "http://rdfs.org/ns/void#"
SD = "http://www.w3.org/ns/sparql-service-description#"
DCAT = "http://www.w3.org/ns/dcat#"
FORMATS = "http://www.w3.org/ns/formats/"
SCHEMA = "https://schema.org/"
VANN = "http://purl.org/vocab/vann/"
BIOLINK = "https://w3id.org/biolink/vocab/"
MESH = "http://id.nlm.nih.gov/mesh/"
UNIPROT = "http://purl.uniprot.org/uniprot/"
OBO = "http://purl.obolibrary.org/obo/"

#: Prefixes used to shorten IRIs without labels (and by the pages to show CURIEs); the editor
#: declares them too.
PREFIXES = {
    "rdf": RDF, "rdfs": RDFS, "owl": OWL, "xsd": XSD, "skos": SKOS, "dcterms": DCTERMS,
    "sh": SH, "prov": PROV, "oa": OA, "void": VOID, "sd": SD, "schema": SCHEMA, "vann": VANN,
    "biolink": BIOLINK, "mesh": MESH, "uniprot": UNIPROT,
}
