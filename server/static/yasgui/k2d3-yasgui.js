// k2d3's YASGUI set-up (not part of the vendored bundle): reads the JSON configuration block the
// page carries, points YASGUI at this endpoint and wires the example buttons.
(function () {
  "use strict";
  function start() {
    var block = document.getElementById("k2d3-yasgui-config");
    if (!block || typeof Yasgui === "undefined") { return; }
    var config = JSON.parse(block.textContent);
    var prologue = Object.keys(config.prefixes).map(function (p) {
      return "PREFIX " + p + ": <" + config.prefixes[p] + ">";
    }).join("\n");
    Yasgui.Yasqe.defaults.value = prologue + "\n\nSELECT * WHERE {\n  ?s ?p ?o\n} LIMIT 10\n";
    var yasgui = new Yasgui(document.getElementById("yasgui"), {
      requestConfig: { endpoint: config.endpoint, method: "POST" },
      copyEndpointOnNewTab: false,
      endpointCatalogueOptions: { getData: function () { return [{ endpoint: config.endpoint }]; } },
      persistenceId: "k2d3-yasgui",
      populateFromUrl: true
    });
    window.k2d3Yasgui = yasgui;
    document.querySelectorAll("button.k2d3-example").forEach(function (button) {
      button.addEventListener("click", function () {
        var example = config.examples[Number(button.dataset.index)];
        var tab = yasgui.addTab(true, { name: example.label });
        tab.setQuery(example.query);
        tab.setEndpoint(config.endpoint);
      });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
