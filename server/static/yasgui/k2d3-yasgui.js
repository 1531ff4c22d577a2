// k2d3's YASGUI set-up (not part of the vendored bundle). It reads the JSON configuration block
// the page carries (server/editor.py says what it holds) and
// - points YASGUI at this endpoint, with a starting query that declares the graph's prefixes;
// - completes k2d3's classes and properties (from the ontology) and the known prefixes, instead
//   of YASQE's defaults, which would ask prefix.cc and Linked Open Vocabularies;
// - wires the examples: a closed list with a filter box, each opening in a new tab;
// - explains a failed query in words (k2d3-query-check.js finds undeclared prefixes, unclosed
//   strings and misspelt keywords; otherwise the parser's position is shown and marked);
// - warns beside an answer when the query names a k2d3: term the ontology does not have;
// - shortens IRIs in the results with the known prefixes and links those under k2d3's base to
//   this server's pages (/id/..., /ontology#Term) instead of https://w3id.org/k2d3/....
(function () {
  "use strict";
  var check = window.k2d3QueryCheck;
  // At most this many findings of one kind are shown: the first ones are what to fix first.
  var MAX_FINDINGS = 5;

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function Editor(config) {
    this.config = config;
    this.marks = [];
    this.termIris = config.terms.map(function (t) { return t.iri; });
    this.labels = {};
    config.terms.forEach(function (t) { this.labels[t.iri] = t.label; }, this);
  }

  Editor.prototype.message = function (key, values) {
    return check.format(this.config.messages[key] || key, values || {});
  };

  Editor.prototype.startingQuery = function () {
    var config = this.config;
    var prologue = config.declared.map(function (p) {
      return "PREFIX " + p + ": <" + config.prefixes[p] + ">";
    }).join("\n");
    var has = function (p) { return config.declared.indexOf(p) >= 0; };
    var body = has("k2d3") && has("rdfs") && config.prefixes.k2d3 === config.vocab ?
      "SELECT ?claim ?label WHERE {\n  ?claim a k2d3:Claim ;\n         rdfs:label ?label .\n" +
        "  FILTER(LANGMATCHES(LANG(?label), \"" + config.lang + "\"))\n} LIMIT 10\n" :
      "SELECT * WHERE {\n  ?s ?p ?o\n} LIMIT 10\n";
    return prologue + "\n\n" + body;
  };

  // ---- Autocompletion ------------------------------------------------------------------

  Editor.prototype.termGetter = function (kind) {
    var terms = this.config.terms.filter(function (t) { return t.kind === kind; });
    return function (yasqe, token) {
      var typed = (token && token.autocompletionString) || "";
      var ns = token && token.tokenPrefixUri;
      var local = ns && typed.indexOf(ns) === 0 ? typed.slice(ns.length).toLowerCase() : null;
      var starts = [], contains = [];
      terms.forEach(function (t) {
        if (local !== null) {
          if (t.iri.indexOf(ns) !== 0) { return; }
          var name = t.iri.slice(ns.length).toLowerCase();
          if (name.indexOf(local) === 0) { starts.push(t.iri); }
          else if (name.indexOf(local) > 0 || t.label.toLowerCase().indexOf(local) >= 0) {
            contains.push(t.iri);
          }
        } else if (t.iri.indexOf(typed) === 0) { starts.push(t.iri); }
      });
      return starts.concat(contains);
    };
  };

  Editor.prototype.labelHints = function () {
    var labels = this.labels;
    return function (yasqe, hints) {
      var prefixes = yasqe.getPrefixesFromQuery();
      return hints.map(function (hint) {
        var text = hint.text, iri = text;
        if (text.charAt(0) === "<") { iri = text.slice(1, -1); }
        else if (text.indexOf(":") > 0) {
          iri = (prefixes[text.slice(0, text.indexOf(":"))] || "") + text.slice(text.indexOf(":") + 1);
        }
        if (labels[iri]) { hint.displayText = text + " \u2014 " + labels[iri]; }
        return hint;
      });
    };
  };

  Editor.prototype.configureAutocompletion = function () {
    var Yasqe = Yasgui.Yasqe, prefixes = this.config.prefixes;
    var list = Object.keys(prefixes).sort().map(function (p) {
      return p + ": <" + prefixes[p] + ">";
    });
    Yasqe.forkAutocompleter("prefixes", { name: "k2d3-prefixes", get: list }, false);
    ["class", "property"].forEach(function (kind) {
      Yasqe.forkAutocompleter(kind, {
        name: "k2d3-" + kind, bulk: false, autoShow: true, get: this.termGetter(kind),
        postprocessHints: this.labelHints()
      }, false);
    }, this);
    Yasqe.defaults.autocompleters = ["k2d3-prefixes", "variables", "k2d3-class",
                                     "k2d3-property"];
  };

  // ---- Examples ------------------------------------------------------------------------

  Editor.prototype.wireExamples = function () {
    var self = this, box = document.querySelector("details.k2d3-examples");
    if (!box) { return; }
    var filter = box.querySelector(".k2d3-examples-filter");
    var none = box.querySelector(".k2d3-examples-none");
    filter.addEventListener("input", function () {
      var words = filter.value.toLowerCase().split(/\s+/).filter(Boolean), shown = 0;
      box.querySelectorAll(".k2d3-examples-list li").forEach(function (li) {
        var hay = li.dataset.search;
        var hit = words.every(function (w) { return hay.indexOf(w) >= 0; });
        li.hidden = !hit;
        shown += hit ? 1 : 0;
      });
      none.hidden = shown > 0;
    });
    box.addEventListener("toggle", function () { if (box.open) { filter.focus(); } });
    box.addEventListener("keydown", function (event) {
      if (event.key === "Escape") { box.open = false; box.querySelector("summary").focus(); }
    });
    document.addEventListener("click", function (event) {
      if (box.open && !box.contains(event.target)) { box.open = false; }
    });
    box.querySelectorAll("button.k2d3-example").forEach(function (button) {
      button.addEventListener("click", function () {
        var example = self.config.examples[Number(button.dataset.index)];
        var tab = self.yasgui.addTab(true, { name: example.title });
        tab.setQuery(example.query);
        tab.setEndpoint(self.config.endpoint);
        box.open = false;
      });
    });
  };

  // ---- Errors --------------------------------------------------------------------------

  /** {status, message} from an error summary: YASGUI keeps only the response's text, which is
   *  k2d3's "400 Bad Request: ..." line or its JSON form. */
  function readError(error) {
    var text = (error && error.text) || "";
    try {
      var json = JSON.parse(text);
      if (json && json.message) { return { status: json.status, message: json.message }; }
    } catch (ignored) { /* not JSON */ }
    var head = /^(\d{3}) [^:\n]*: ?/.exec(text);
    if (head) { return { status: Number(head[1]), message: text.slice(head[0].length) }; }
    return { status: error && error.status, message: text };
  }

  Editor.prototype.clearMarks = function () {
    this.marks.forEach(function (mark) { mark.clear(); });
    this.marks = [];
  };

  Editor.prototype.mark = function (yasqe, line, column, length) {
    var text = yasqe.getLine(line - 1);
    if (text === undefined) { return; }
    var from = Math.min(column - 1, Math.max(text.length - 1, 0));
    var to = Math.max(from + (length || 1), from + 1);
    this.marks.push(yasqe.markText({ line: line - 1, ch: from }, { line: line - 1, ch: to },
                                   { className: "k2d3-error-mark" }));
  };

  Editor.prototype.showButton = function (yasqe, line, column) {
    var button = element("button", "k2d3-show", this.message("show"));
    button.type = "button";
    button.addEventListener("click", function () {
      yasqe.focus();
      yasqe.setCursor({ line: line - 1, ch: column - 1 });
      yasqe.scrollIntoView({ line: line - 1, ch: column - 1 }, 60);
    });
    return button;
  };

  Editor.prototype.finding = function (yasqe, text, line, column, length) {
    var p = element("p", "k2d3-finding", text + " ");
    this.mark(yasqe, line, column, length);
    p.appendChild(this.showButton(yasqe, line, column));
    return p;
  };

  Editor.prototype.prefixFindings = function (yasqe, query, box) {
    var self = this;
    check.undeclaredPrefixes(query).slice(0, MAX_FINDINGS).forEach(function (use) {
      var ns = self.config.prefixes[use.prefix];
      box.appendChild(element("p", "k2d3-finding", self.message("prefix_undeclared", use)));
      self.mark(yasqe, use.line, use.column, use.length);
      var line = "PREFIX " + use.prefix + ": <" + (ns || "\u2026") + ">";
      var fix = element("p", "k2d3-fix");
      fix.appendChild(element("code", "", line));
      if (ns) {
        var add = element("button", "k2d3-add-prefix", self.message("add_prefix"));
        add.type = "button";
        add.addEventListener("click", function () {
          var wanted = {};
          wanted[use.prefix] = ns;
          yasqe.addPrefixes(wanted);
          add.disabled = true;
        });
        fix.appendChild(document.createTextNode(" "));
        fix.appendChild(add);
      } else {
        fix.appendChild(element("span", "", " " + self.message("prefix_unknown", use)));
      }
      fix.appendChild(self.showButton(yasqe, use.line, use.column));
      box.appendChild(fix);
    });
  };

  Editor.prototype.wordFindings = function (yasqe, query, box) {
    var self = this;
    check.unclosedStrings(query).forEach(function (open) {
      box.appendChild(self.finding(yasqe, self.message("string_unclosed", open), open.line,
                                   open.column, 1));
    });
    check.unknownWords(query, MAX_FINDINGS).forEach(function (word) {
      var key = word.suggestion ? "keyword_suggest" : "keyword_unknown";
      box.appendChild(self.finding(yasqe, self.message(key, word), word.line, word.column,
                                   word.word.length));
    });
  };

  Editor.prototype.positionFinding = function (yasqe, message, box) {
    var parsed = check.parseServerError(message);
    if (!parsed) { return; }
    var expected = parsed.expected.slice(0, 8);
    if (parsed.nameChar) { expected.push(this.message("name_char")); }
    var text = this.message("syntax", parsed);
    if (parsed.expected.length) {
      text += " " + this.message("expected", { expected: expected.join(this.message("or")) });
    }
    box.appendChild(this.finding(yasqe, text, parsed.line, parsed.column, 1));
  };

  Editor.prototype.renderError = function (error) {
    var tab = this.yasgui.getTab(), yasqe = tab.getYasqe(), query = tab.getQuery();
    var read = readError(error), box = element("div", "k2d3-error");
    box.setAttribute("role", "alert");
    this.clearMarks();
    if (!read.status && /fetch|network/i.test(read.message)) {
      box.appendChild(element("p", "k2d3-finding", this.message("no_response")));
      return box;
    }
    this.prefixFindings(yasqe, query, box);
    if (!box.childNodes.length) { this.wordFindings(yasqe, query, box); }
    if (!box.childNodes.length) { this.positionFinding(yasqe, read.message, box); }
    if (!box.childNodes.length && read.status) {
      box.appendChild(element("p", "k2d3-finding", this.message("error_status", read)));
    }
    var details = element("details", "k2d3-endpoint-said");
    details.appendChild(element("summary", "", this.message("endpoint_said")));
    details.appendChild(element("pre", "k2d3-error-text", (error && error.text) || ""));
    details.open = box.childNodes.length === 0;
    box.appendChild(details);
    // On a phone the answer area starts below the editor: bring the explanation into view.
    window.setTimeout(function () { box.scrollIntoView({ block: "nearest" }); }, 0);
    return box;
  };

  // ---- Warnings beside an answer ---------------------------------------------------------

  function isEmpty(results) {
    var bindings = results.getBindings && results.getBindings();
    if (bindings) { return bindings.length === 0; }
    return results.getBoolean && results.getBoolean() === false;
  }

  Editor.prototype.ontologyHref = function (suggestion) {
    var local = suggestion ? /([^:#<>]+)>?$/.exec(suggestion)[1] : "classes";
    return this.localHref(this.config.vocab + local) || this.config.vocab + local;
  };

  Editor.prototype.noteUnknownTerms = function (tab) {
    var yasr = tab.getYasr();
    if (!yasr || !yasr.results || yasr.results.hasError()) { return; }
    var empty = isEmpty(yasr.results);
    var found = check.unknownTerms(tab.getQuery(), this.config.vocab, this.termIris,
                                   MAX_FINDINGS)
      .filter(function (u) { return u.suggestion !== null || empty; });
    if (!found.length) { return; }
    var box = element("div", "k2d3-notes");
    box.setAttribute("role", "status");
    found.forEach(function (u) {
      var text = this.message(u.suggestion ? "term_suggest" : "term_unknown", u);
      var sep = this.config.lang === "zh" ? "" : " ";  // Chinese sentences join without one
      var p = element("p", "k2d3-note", text + (empty ? sep + this.message("term_empty") : "") + " ");
      var link = element("a", "", this.message("ontology"));
      link.href = this.ontologyHref(u.suggestion);
      p.appendChild(link);
      box.appendChild(p);
    }, this);
    yasr.rootEl.insertBefore(box, yasr.rootEl.firstChild);
  };

  Editor.prototype.clearNotes = function (tab) {
    var yasr = tab && tab.getYasr();
    if (yasr) { yasr.rootEl.querySelectorAll(".k2d3-notes").forEach(function (n) { n.remove(); }); }
    this.clearMarks();
  };

  // ---- Local links ---------------------------------------------------------------------

  /** This server's page for an IRI under k2d3's base (/id/..., /ontology#Term), or null. */
  Editor.prototype.localHref = function (iri) {
    var config = this.config;
    if (iri.indexOf(config.base) !== 0) { return null; }
    var rest = iri.slice(config.base.length), hash = rest.indexOf("#");
    var path = hash < 0 ? rest : rest.slice(0, hash), fragment = hash < 0 ? "" : rest.slice(hash);
    var query = config.lang !== "en" ? "?lang=" + encodeURIComponent(config.lang) : "";
    return config.root + "/" + path + query + fragment;
  };

  Editor.prototype.linkLocally = function (root) {
    var self = this, base = this.config.base;
    var rewrite = function (scope) {
      scope.querySelectorAll("a[href^=\"" + base + "\"]").forEach(function (a) {
        var iri = a.getAttribute("href"), local = self.localHref(iri);
        if (local) { a.setAttribute("href", local); a.title = iri; }
      });
    };
    // Only the added nodes are looked at, so a table of n rows costs O(n), not O(n^2).
    new MutationObserver(function (changes) {
      changes.forEach(function (change) {
        change.addedNodes.forEach(function (node) {
          if (node.nodeType !== 1) { return; }
          if (node.matches("a[href]")) { rewrite(node.parentNode || node); } else { rewrite(node); }
        });
      });
    }).observe(root, { childList: true, subtree: true });
    rewrite(root);
  };

  // ---- Start ---------------------------------------------------------------------------

  Editor.prototype.start = function () {
    var self = this, config = this.config;
    this.configureAutocompletion();
    Yasgui.Yasqe.defaults.value = this.startingQuery();
    Yasgui.Yasqe.defaults.collapsePrefixesOnLoad = true;
    Yasgui.Yasr.defaults.errorRenderers = [function (error) { return self.renderError(error); }];
    // Results show IRIs with the known prefixes too, not only with the query's own.
    Yasgui.Yasr.defaults.prefixes = config.prefixes;
    this.yasgui = new Yasgui(document.getElementById("yasgui"), {
      requestConfig: { endpoint: config.endpoint, method: "POST" },
      copyEndpointOnNewTab: false,
      endpointCatalogueOptions: { getData: function () { return [{ endpoint: config.endpoint }]; } },
      persistenceId: "k2d3-yasgui",
      populateFromUrl: true
    });
    window.k2d3Yasgui = this.yasgui;
    window.k2d3Editor = this;
    this.wireExamples();
    this.linkLocally(document.getElementById("yasgui"));
    this.yasgui.on("query", function (yasgui, tab) { self.clearNotes(tab); });
    this.yasgui.on("queryResponse", function (yasgui, tab) {
      window.setTimeout(function () { self.noteUnknownTerms(tab); }, 0);
    });
  };

  function start() {
    var block = document.getElementById("k2d3-yasgui-config");
    if (!block || typeof Yasgui === "undefined" || !check) { return; }
    new Editor(JSON.parse(block.textContent)).start();
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
