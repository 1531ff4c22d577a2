"""The SPARQL behind the evidence map and the mechanism diagram, and their colour key.

Kept apart from the drawing code so that the vocabulary the pictures depend on is in one place.
The queries do not rely on the reasoner's output: subclass and inverse-property steps are
written as property paths, so they answer the same over the asserted data alone.
"""

from __future__ import annotations

PREFIXES = """PREFIX k2d3: <https://w3id.org/k2d3/ontology#>
PREFIX k2di: <https://w3id.org/k2d3/id/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
"""

#: Populations that claims about an intervention and an outcome name.
POPULATIONS = """
SELECT DISTINCT ?population WHERE {
  ?claim a k2d3:Claim ; k2d3:population ?population ; k2d3:subject ?i ; k2d3:object ?o .
  ?i a/rdfs:subClassOf* k2d3:Intervention .
  ?o a/rdfs:subClassOf* k2d3:Outcome .
}"""

#: One row per (claim, evidence line) for claims of an intervention on an outcome; ``?population``
#: may be bound by substitution to keep only claims about it (or a subpopulation of it).
CELLS = """
SELECT ?outcome ?intervention ?claim ?relation ?direction ?verdict ?line ?certainty ?about
       ?population WHERE {  # ?population is projected: pyoxigraph substitutes only those
  # Only claims about effects: "D3 supplements are popular for bone health" is no effect on
  # bone health, and must not fill the cell (D3, bone health) with "supported".
  VALUES ?relation { k2di:relation-affects k2di:relation-causes k2di:relation-rarely-causes
                     k2di:relation-prevents k2di:relation-treats k2di:relation-associated-with
                     k2di:relation-risk-factor-for }
  ?claim a k2d3:Claim ; k2d3:subject ?intervention ; k2d3:predicate ?relation ;
         k2d3:object ?outcome .
  ?intervention a/rdfs:subClassOf* k2d3:Intervention .
  ?outcome a/rdfs:subClassOf* k2d3:Outcome .
  OPTIONAL { ?claim k2d3:direction ?direction }
  OPTIONAL { ?claim k2d3:verdict ?verdict }
  OPTIONAL { ?claim k2d3:hasEvidenceLine ?line OPTIONAL { ?line k2d3:certainty ?certainty } }
  OPTIONAL { ?claim k2d3:population ?about }
  # COALESCE, not !BOUND: pyoxigraph folds BOUND() of a substituted variable to false
  FILTER(COALESCE(?population, k2d3:any) = k2d3:any
         || EXISTS { ?claim k2d3:population ?population }
         || EXISTS { ?claim k2d3:population/k2d3:subPopulationOf+ ?population })
}"""

#: The mechanism's edges: a vitamin activates a protein (``activates``), the protein sends calcium
#: to a site or keeps it out (``action``: the property is the label), and vitamin D promotes
#: calcium absorption (``absorption``). Only proteins with a calcium role are drawn.
MECHANISM = """
SELECT DISTINCT ?kind ?source ?relation ?target WHERE {
  {
    ?source k2d3:activates|^k2d3:activatedBy ?target .
    ?source a/rdfs:subClassOf* k2d3:Vitamin .
    FILTER EXISTS { ?target k2d3:directsCalciumTo|k2d3:inhibitsCalciumDepositionIn ?site }
    BIND("activates" AS ?kind) BIND(k2d3:activates AS ?relation)
  } UNION {
    VALUES ?relation { k2d3:directsCalciumTo k2d3:inhibitsCalciumDepositionIn }
    ?source ?relation ?target ; a/rdfs:subClassOf* k2d3:Protein .
    BIND("action" AS ?kind)
  } UNION {
    ?source k2d3:promotesAbsorptionOf ?target ; a/rdfs:subClassOf* k2d3:Vitamin .
    BIND("absorption" AS ?kind) BIND(k2d3:promotesAbsorptionOf AS ?relation)
  }
}"""

ID = "https://w3id.org/k2d3/id/"

#: Certainty ratings, best first (the map shows the best certainty among a cell's lines).
CERTAINTY_ORDER = [ID + "certainty-" + c for c in
                   ("high", "moderate", "low", "very-low", "not-stated")]

#: Fill colour of a cell by the article's verdict on its claims.
VERDICT_COLOURS = {
    ID + "verdict-supported": "#b7e1b0",
    ID + "verdict-weakly-supported": "#dcf0c8",
    ID + "verdict-plausible": "#f3ecc0",
    ID + "verdict-uncertain": "#f7e3a6",
    ID + "verdict-not-supported": "#f2c1b6",
    ID + "verdict-unsupported-marketing-claim": "#eab0c8",
}

#: Verdicts from the strongest to the weakest (a cell with several claims shows the first).
VERDICT_ORDER = list(VERDICT_COLOURS)


def colour(verdict: str | None) -> str:
    return VERDICT_COLOURS.get(verdict or "", "#e6e6e6")


def symbol(direction: str | None) -> str:
    """An arrow for the direction of effect (``?`` when the claims give none or disagree)."""
    return {ID + "direction-increased": "↑", ID + "direction-decreased": "↓"}.get(
        direction or "", "?")
