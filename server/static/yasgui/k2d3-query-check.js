// k2d3's checks of a SPARQL query's text, behind the editor's error help and warnings (not part
// of the vendored YASGUI bundle). Pure functions over strings, no DOM: k2d3-yasgui.js shows what
// they find, tests/live/test_yasgui_browser.py calls them in Chromium. The tokenizer follows the
// SPARQL 1.1 grammar's terminals (https://www.w3.org/TR/sparql11-query/#terminals) closely
// enough to tell comments, strings, IRIs, variables, prefixed names and bare words apart.
(function (root) {
  "use strict";

  // Every bare word SPARQL 1.1 (query and update) allows: keywords and built-in functions,
  // plus the SPARQL 1.2 / RDF-star functions Oxigraph accepts.
  var KEYWORDS = ("BASE PREFIX SELECT CONSTRUCT DESCRIBE ASK DISTINCT REDUCED AS FROM NAMED " +
    "WHERE GROUP BY HAVING ORDER ASC DESC LIMIT OFFSET VALUES UNDEF OPTIONAL GRAPH SERVICE " +
    "SILENT BIND MINUS UNION FILTER NOT IN EXISTS A TRUE FALSE LOAD CLEAR DROP CREATE ADD " +
    "MOVE COPY INSERT DELETE DATA WITH USING DEFAULT ALL INTO TO SEPARATOR LATERAL " +
    "STR LANG LANGMATCHES DATATYPE BOUND IRI URI BNODE RAND ABS CEIL FLOOR ROUND CONCAT " +
    "STRLEN UCASE LCASE ENCODE_FOR_URI CONTAINS STRSTARTS STRENDS STRBEFORE STRAFTER YEAR " +
    "MONTH DAY HOURS MINUTES SECONDS TIMEZONE TZ NOW UUID STRUUID MD5 SHA1 SHA256 SHA384 " +
    "SHA512 COALESCE IF STRLANG STRDT SAMETERM ISIRI ISURI ISBLANK ISLITERAL ISNUMERIC REGEX " +
    "SUBSTR REPLACE COUNT SUM MIN MAX AVG SAMPLE GROUP_CONCAT TRIPLE SUBJECT PREDICATE " +
    "OBJECT ISTRIPLE LANGDIR HASLANG HASLANGDIR STRLANGDIR ADJUST").split(" ");
  var KEYWORD_SET = new Set(KEYWORDS);

  var NAME = "\\p{L}\\p{N}_\\u00B7\\-";  // name characters; the hyphen escaped for [...]
  var PATTERNS = [
    ["ws", "\\s+"],
    ["comment", "#[^\\n]*"],
    ["string", "\"\"\"(?:[^\"\\\\]|\\\\[^]|\"(?!\"\"))*\"\"\"|'''(?:[^'\\\\]|\\\\[^]|'(?!''))*'''"],
    ["string", "\"(?:[^\"\\\\\\n]|\\\\.)*\"|'(?:[^'\\\\\\n]|\\\\.)*'"],
    ["badstring", "[\"'][^\\n]*"],
    ["iri", "<[^<>\"{}|^`\\\\\\s]*>"],
    ["var", "[?$][\\p{L}\\p{N}_\\u00B7]+"],
    ["langtag", "@[a-zA-Z]+(?:-[a-zA-Z0-9]+)*"],
    ["bnode", "_:[" + NAME + ".]*"],
    ["pname", "(?:\\p{L}[" + NAME + ".]*)?:(?:\\\\.|[" + NAME + ":%]|\\.(?=[" + NAME + ":%]))*"],
    ["number", "\\d+(?:\\.\\d*)?(?:[eE][+-]?\\d+)?|\\.\\d+(?:[eE][+-]?\\d+)?"],
    ["word", "[\\p{L}_][\\p{L}\\p{N}_]*"],
    ["punct", "[^]"]
  ];
  var TOKEN = new RegExp(PATTERNS.map(function (p) { return "(" + p[1] + ")"; }).join("|"), "gu");

  /** The query's tokens: {type, text, index, line, column} (line and column from 1). */
  function tokens(text) {
    var out = [], line = 1, lineStart = 0, match;
    TOKEN.lastIndex = 0;
    while ((match = TOKEN.exec(text)) !== null) {
      var type = PATTERNS[match.slice(1).findIndex(function (g) { return g !== undefined; })][0];
      var token = { type: type, text: match[0], index: match.index, line: line,
                    column: match.index - lineStart + 1 };
      if (type !== "ws" && type !== "comment") { out.push(token); }
      var newlines = match[0].split("\n");
      if (newlines.length > 1) {
        line += newlines.length - 1;
        lineStart = match.index + match[0].lastIndexOf("\n") + 1;
      }
    }
    return out;
  }

  /** The prefixes the query declares: {prefix: namespace IRI}. */
  function declaredPrefixes(toks) {
    var out = {};
    toks.forEach(function (tok, i) {
      var name = toks[i + 1], iri = toks[i + 2];
      if (tok.type === "word" && tok.text.toUpperCase() === "PREFIX" && name &&
          name.type === "pname" && name.text.endsWith(":") && iri && iri.type === "iri") {
        out[name.text.slice(0, -1)] = iri.text.slice(1, -1);
      }
    });
    return out;
  }

  function isDeclaration(toks, i) {
    return i > 0 && toks[i - 1].type === "word" && toks[i - 1].text.toUpperCase() === "PREFIX";
  }

  /** The first use of each prefix the query uses without declaring it:
   *  [{prefix, line, column, index, length}]. */
  function undeclaredPrefixes(text) {
    var toks = tokens(text), declared = declaredPrefixes(toks), seen = {}, out = [];
    toks.forEach(function (tok, i) {
      if (tok.type !== "pname" || isDeclaration(toks, i)) { return; }
      var prefix = tok.text.slice(0, tok.text.indexOf(":"));
      if (!(prefix in declared) && !seen[prefix]) {
        seen[prefix] = true;
        out.push({ prefix: prefix, line: tok.line, column: tok.column, index: tok.index,
                   length: tok.text.length });
      }
    });
    return out;
  }

  /** Strings opened and never closed on their line: [{line, column, index, quote}]. */
  function unclosedStrings(text) {
    return tokens(text).filter(function (tok) { return tok.type === "badstring"; })
      .map(function (tok) {
        return { line: tok.line, column: tok.column, index: tok.index, quote: tok.text.charAt(0) };
      });
  }

  /** Optimal-string-alignment distance (Levenshtein plus adjacent swaps). */
  function distance(a, b) {
    var rows = [];
    for (var i = 0; i <= a.length; i++) {
      rows.push([i]);
      for (var j = 1; j <= b.length; j++) {
        if (i === 0) { rows[0].push(j); continue; }
        var cost = a[i - 1] === b[j - 1] ? 0 : 1;
        var best = Math.min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost);
        if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
          best = Math.min(best, rows[i - 2][j - 2] + 1);
        }
        rows[i].push(best);
      }
    }
    return rows[a.length][b.length];
  }

  /** The candidate closest to word (ignoring case) if it is close enough to be a slip of the
   *  keyboard: at most one edit per three characters. Ties go to the first in candidates. */
  function suggest(word, candidates) {
    var limit = Math.max(1, Math.floor(word.length / 3)), best = null, bestDistance = limit + 1;
    var lower = word.toLowerCase();
    candidates.forEach(function (candidate) {
      var d = distance(lower, candidate.toLowerCase());
      if (d < bestDistance && candidate !== word) { best = candidate; bestDistance = d; }
    });
    return best;
  }

  /** Bare words that are no SPARQL keyword or function: [{word, line, column, index,
   *  suggestion}], the suggestion being the keyword it most likely misspells, or null; at most
   *  ``limit`` of them (all by default). */
  function unknownWords(text, limit) {
    return tokens(text).filter(function (tok) {
      return tok.type === "word" && !KEYWORD_SET.has(tok.text.toUpperCase());
    }).slice(0, limit === undefined ? Infinity : limit).map(function (tok) {
      return { word: tok.text, line: tok.line, column: tok.column, index: tok.index,
               suggestion: suggest(tok.text.toUpperCase(), KEYWORDS) };
    });
  }

  /** Names in the vocabulary's namespace (prefixed, with whatever prefix the query binds to
   *  it, or as full IRIs) that are not terms of the ontology: [{term, line, column, index,
   *  suggestion}], each name once, at most ``limit`` (all by default). ``known`` lists the
   *  ontology's IRIs. */
  function unknownTerms(text, vocab, known, limit) {
    var toks = tokens(text), declared = declaredPrefixes(toks), seen = {}, out = [];
    var locals = known.filter(function (iri) { return iri.indexOf(vocab) === 0; })
      .map(function (iri) { return iri.slice(vocab.length); });
    var knownSet = new Set(locals);
    toks.forEach(function (tok, i) {
      var local = null, written = null;
      if (tok.type === "pname" && !isDeclaration(toks, i)) {
        var colon = tok.text.indexOf(":"), prefix = tok.text.slice(0, colon);
        if (declared[prefix] === vocab) { local = tok.text.slice(colon + 1); written = prefix + ":"; }
      } else if (tok.type === "iri" && tok.text.indexOf("<" + vocab) === 0) {
        local = tok.text.slice(vocab.length + 1, -1);
      }
      if (local === null || local === "" || knownSet.has(local) || seen[tok.text] ||
          out.length >= (limit === undefined ? Infinity : limit)) { return; }
      seen[tok.text] = true;
      var near = suggest(local, locals);
      out.push({ term: tok.text, line: tok.line, column: tok.column, index: tok.index,
                 suggestion: near === null ? null :
                   (written !== null ? written + near : "<" + vocab + near + ">") });
    });
    return out;
  }

  /** Split "A, B, [x, y], C" at the commas outside brackets and quotes. */
  function splitList(text) {
    var out = [], depth = 0, quote = null, start = 0;
    for (var i = 0; i < text.length; i++) {
      var c = text[i];
      if (quote) {
        if (c === "\\") { i++; } else if (c === quote) { quote = null; }
      } else if (c === "\"" || c === "'") { quote = c; }
      else if (c === "[") { depth++; }
      else if (c === "]") { depth--; }
      else if (c === "," && depth === 0) { out.push(text.slice(start, i).trim()); start = i + 1; }
    }
    out.push(text.slice(start).trim());
    return out.filter(function (item) { return item; });
  }

  /** What the endpoint's syntax-error message says, read from pyoxigraph's wording ("error at
   *  LINE:COLUMN: expected one of A, B"): {line, column, expected: [...], nameChar,
   *  prefixNotFound}, or null when the text holds no position. */
  function parseServerError(message) {
    var at = /error at (\d+):(\d+)/.exec(message || "");
    if (!at) { return null; }
    var rest = message.slice(at.index + at[0].length);
    var wanted = /expected (?:one of )?([^]*)$/.exec(rest);
    var out = { line: Number(at[1]), column: Number(at[2]), expected: [], nameChar: false,
                prefixNotFound: /Prefix not found/i.test(message) };
    (wanted ? splitList(wanted[1].replace(/\s+/g, " ")) : []).forEach(function (item) {
      if (item.charAt(0) === "[") { out.nameChar = true; return; }
      if (/^Prefix not found$/i.test(item)) { return; }
      var quoted = /^"((?:[^"\\]|\\.)*)"$/.exec(item);
      var shown = quoted ? quoted[1].replace(/\\(.)/g, "$1") : item;
      if (out.expected.indexOf(shown) < 0) { out.expected.push(shown); }
    });
    return out;
  }

  /** The template with {name} replaced by values[name]. */
  function format(template, values) {
    return template.replace(/\{(\w+)\}/g, function (all, name) {
      return name in values ? String(values[name]) : all;
    });
  }

  root.k2d3QueryCheck = {
    KEYWORDS: KEYWORDS, tokens: tokens, declaredPrefixes: declaredPrefixes,
    undeclaredPrefixes: undeclaredPrefixes, unclosedStrings: unclosedStrings, distance: distance, suggest: suggest,
    unknownWords: unknownWords, unknownTerms: unknownTerms, splitList: splitList,
    parseServerError: parseServerError, format: format
  };
})(window);
