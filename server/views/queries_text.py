"""The words of the ``/queries`` pages in English and Chinese (data labels come from the graph)."""

from __future__ import annotations

#: Catalogue topics in page order: key -> {lang: heading}.
TOPICS: dict[str, dict[str, str]] = {
    "verdict": {"en": "The verdict", "zh": "结论"},
    "mechanism": {"en": "Mechanism", "zh": "作用机制"},
    "evidence": {"en": "Evidence", "zh": "证据"},
    "guidelines": {"en": "Guidelines", "zh": "指南"},
    "marketing": {"en": "Marketing claims", "zh": "营销宣传"},
    "deficiency": {"en": "Vitamin K deficiency", "zh": "维生素 K 缺乏症"},
    "safety": {"en": "Safety and interactions", "zh": "安全性与相互作用"},
    "sources": {"en": "Sources of the vitamins", "zh": "维生素的来源"},
    "explore": {"en": "Explore the graph", "zh": "浏览图谱"},
    "other": {"en": "Other", "zh": "其他"},
}

MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "catalogue": "Canned queries",
        "catalogue.lead": "Questions about vitamin K2 and D3, answered from the graph with the "
        "evidence behind each answer. Each one is a SPARQL query you can run, change and "
        "download.",
        "search": "Search the queries", "search.button": "Search", "search.clear": "Show all",
        "search.none": "No query matches", "found": "queries",
        "map": "Evidence map", "map.lead": "Outcomes against interventions: each cell shows the "
        "direction of the effect the article reports, the certainty of the evidence and the "
        "number of evidence lines.",
        "mechanism": "Mechanism", "mechanism.lead": "From vitamin to protein to calcium to bone "
        "or vessel, as the article describes it.",
        "population": "Population", "population.all": "All populations", "filter": "Filter",
        "parameters": "Parameters", "run": "Run", "any": "(any)",
        "results": "Results", "results.count": "{n} results in {ms} ms",
        "truncated": "The answer was cut at {n} rows (the server's row limit).",
        "ask.yes": "Yes", "ask.no": "No", "no_rows": "No results.",
        "download": "Download", "query_text": "The query", "editor": "Open in the query editor",
        "permalink": "Permalink", "error": "The parameters are not valid",
        "keywords": "Keywords", "cells": "Cells of the map",
        "outcome": "Outcome", "intervention": "Intervention", "direction": "Direction",
        "certainty": "Certainty", "lines": "Evidence lines", "verdict": "Verdict",
        "map.link": "The evidence map and the mechanism diagram",
        "map.no_direction": "no direction stated", "map.line": "{n} line",
        "map.lines": "{n} lines", "map.in": "in {p}", "map.certainty": "certainty: {c}",
        "mechanism.title": "Mechanism: vitamin, protein, calcium, "
        "tissue", "map.downloads": "The map's cells as data",
        "map.scroll": "The map scrolls sideways; its cells are also listed below.",
        "answer": "The answer, outcome by outcome", "translation": "Translation (k2d3 curators):",
        "pages": "Pages", "page.previous": "Previous page", "page.next": "Next page",
        "page.of": "Page {n} of {pages}", "page.rows": "rows {first} to {last} of {total}",
        "legend": "What the badges mean", "legend.verdict": "Verdicts (the article's)",
        "legend.certainty": "Certainty of the evidence (GRADE, rated by the k2d3 curators)",
    },
    "zh": {
        "catalogue": "预设查询",
        "catalogue.lead": "关于维生素 K2 和 D3 的问题,由图谱作答,并给出每个答案背后的证据。"
        "每个问题都是一条可以运行、修改和下载的 SPARQL 查询。",
        "search": "搜索查询", "search.button": "搜索", "search.clear": "显示全部",
        "search.none": "没有匹配的查询", "found": "条查询",
        "map": "证据图",
        "map.lead": "结局与干预的对照:每格显示文章报告的效应方向、证据确定性和证据条数。",
        "mechanism": "作用机制",
        "mechanism.lead": "按文章的描述:从维生素到蛋白质,再到钙,最后到骨骼或血管。",
        "population": "人群", "population.all": "所有人群", "filter": "筛选",
        "parameters": "参数", "run": "运行", "any": "(任意)",
        "results": "结果", "results.count": "{n} 条结果,用时 {ms} 毫秒",
        "truncated": "结果在 {n} 行处被截断(服务器的行数上限)。",
        "ask.yes": "是", "ask.no": "否", "no_rows": "没有结果。",
        "download": "下载", "query_text": "查询语句", "editor": "在查询编辑器中打开",
        "permalink": "永久链接", "error": "参数无效",
        "keywords": "关键词", "cells": "证据图的单元格",
        "outcome": "结局", "intervention": "干预", "direction": "方向",
        "certainty": "确定性", "lines": "证据线数", "verdict": "结论",
        "map.link": "证据图与作用机制图",
        "map.no_direction": "未说明方向", "map.line": "{n} 条证据线", "map.lines": "{n} 条证据线",
        "map.in": "人群:{p}", "map.certainty": "确定性:{c}",
        "mechanism.title": "作用机制:维生素、蛋白质、钙、组织", "map.downloads": "证据图各格的数据",
        "map.scroll": "证据图可左右滑动;下方也逐格列出。",
        "answer": "逐项结局的答案", "translation": "译文(k2d3 整理者):",
        "pages": "分页", "page.previous": "上一页", "page.next": "下一页",
        "page.of": "第 {n} 页,共 {pages} 页", "page.rows": "第 {first} 至 {last} 行,共 {total} 行",
        "legend": "标记的含义", "legend.verdict": "结论(文章的)",
        "legend.certainty": "证据确定性(GRADE,由 k2d3 整理者评定)",
    },
}
