"""English and Chinese for k2d3's pages: which language a request wants, and the UI strings.

``?lang=en|zh`` wins (so a link can fix the language), then the ``Accept-Language`` header
(RFC 9110 §12.5.4: the highest q-value among ``en*`` and ``zh*`` ranges), then English.
Data labels come from the graph (``rdfs:label`` with ``@en``/``@zh``, see ``labels.py``); this
module only holds the few strings of the page chrome.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from flask import Request, request

LANGS = ("en", "zh")
DEFAULT_LANG = "en"

#: UI strings, by key, in each language. Keys missing in a language fall back to English.
MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "nav.label": "Site", "nav.home": "Home", "nav.sparql": "Query editor",
        "nav.queries": "Queries", "nav.ontology": "Ontology", "nav.source": "Source",
        "nav.dataset": "Dataset", "nav.dumps": "Dumps", "lang.other": "中文",
        "footer.about": "k2d3: the claims of one article on vitamins K2 and D3, as linked data.",
        "types": "Types", "definition": "Definition", "outgoing": "Statements",
        "incoming": "Referenced by", "matches": "External matches", "formats": "Formats",
        "evidence": "Evidence", "quotation": "Quotation in its paragraph",
        "see_source": "See it in the source", "more": "More", "page": "Page",
        "previous": "Previous", "next": "Next", "of": "of", "not_found": "Not found",
        "not_found.text": "k2d3 knows nothing about this IRI.", "graph": "Graph",
        "classes": "Classes", "object_properties": "Object properties",
        "datatype_properties": "Datatype properties", "annotation_properties":
        "Annotation properties", "other_properties": "Other properties",
        "hierarchy": "Class hierarchy", "superclasses": "Superclasses", "subclasses":
        "Subclasses", "equivalent": "Equivalent to", "restrictions": "Restrictions",
        "domain": "Domain", "range": "Range", "in_domain_of": "In domain of",
        "in_range_of": "In range of", "instances": "Instances", "alignments": "Alignments",
        "superproperties": "Superproperties", "subproperties": "Subproperties",
        "inverse": "Inverse of", "metadata": "Metadata", "source.cited_by": "Cited by",
        "shapes.lead": "The build validates the graph data against these SHACL shapes; each "
        "one says what it requires, and its message says what is wrong when data breaks it.",
        "source.title": "The source: Should you take vitamin K with your vitamin D?",
        "source.coverage": "Highlighted passages are quoted by claims in the graph; passages "
        "in grey carry no claim (headings, questions, the byline).",
        "source.uncovered": "Not yet accounted for by any claim",
        "source.complete": "Every sentence of the article is quoted for a claim or marked as "
        "carrying none.",
        "home.title": "k2d3: should you take vitamin K2 with vitamin D3?",
        "home.lead": "k2d3 is a knowledge graph of the claims, evidence and quotations of one "
        "article, served as linked data with a SPARQL 1.1 endpoint.",
        "home.answer": "The article's answer, outcome by outcome",
        "home.verdict": "The verdict table, with the claims and evidence behind each row",
        "home.positions": "What the author affirms, rejects or leaves open",
        "home.gaps": "Which trials are missing",
        "home.explore": "Explore", "home.void": "Dataset description (VoID)",
        "home.dumps": "Downloads (dumps)", "home.healthz": "Health check",
        "dumps.title": "Dumps", "dumps.file": "File", "dumps.size": "Size",
        "dumps.sha256": "SHA-256", "dumps.none": "No dumps were written for this store.",
        "label": "Label", "iri": "IRI", "value": "Value", "property": "Property",
        "nav.search": "Search", "search.title": "Search the graph",
        "api.title": "The HTTP API", "api.lead": "Every route, its parameters, formats and "
        "statuses, generated from the routes; the same in OpenAPI 3.1:",
        "api.parameters": "Parameters", "api.required": "required", "api.body": "Request body",
        "api.responses": "Responses",
        "search.label": "Names of vitamins, conditions, claims, queries… (English or Chinese)",
        "search.button": "Search", "search.queries": "Canned queries",
        "search.resources": "In the graph", "search.none": "Nothing found.",
        "claim.status": "Who says this, and the article's verdict",
        "claim.affirmed": "The article's author affirms this claim.",
        "claim.reported": "A claim the article reports and evaluates: the article does not "
        "assert it. Read the verdict.",
        "claim.inferred": "An inference of the k2d3 curators: the article does not state it.",
        "claim.verdict": "Verdict", "claim.evaluated_by": "Evaluated by",
        "claim.asserted_by": "Asserted by", "claim.hedge": "Hedge",
        "claim.gaps": "Evidence the article says is missing",
    },
    "zh": {
        "nav.label": "站点", "nav.home": "首页", "nav.sparql": "查询编辑器",
        "nav.queries": "预设查询", "nav.ontology": "本体", "nav.source": "原文",
        "nav.dataset": "数据集", "nav.dumps": "数据下载", "lang.other": "English",
        "footer.about": "k2d3:把一篇关于维生素 K2 与 D3 的文章中的论断发布为关联数据。",
        "types": "类型", "definition": "定义", "outgoing": "陈述", "incoming": "被引用于",
        "matches": "外部对应", "formats": "格式", "evidence": "证据",
        "quotation": "引文及其所在段落", "see_source": "在原文中查看", "more": "更多",
        "page": "页", "previous": "上一页", "next": "下一页", "of": "/",
        "not_found": "未找到", "not_found.text": "k2d3 不认识这个 IRI。", "graph": "图",
        "classes": "类", "object_properties": "对象属性", "datatype_properties": "数据属性",
        "annotation_properties": "注释属性", "other_properties": "其他属性",
        "hierarchy": "类层级", "superclasses": "父类", "subclasses": "子类",
        "equivalent": "等价于", "restrictions": "限制", "domain": "定义域", "range": "值域",
        "in_domain_of": "作为定义域的属性", "in_range_of": "作为值域的属性",
        "instances": "实例", "alignments": "对齐", "superproperties": "父属性",
        "subproperties": "子属性", "inverse": "逆属性", "metadata": "元数据",
        "source.cited_by": "引用它的论断",
        "shapes.lead": "构建时用这些 SHACL 形状校验图数据;每个形状说明它的要求,"
        "数据违反时由其消息说明问题所在。",
        "source.title": "原文:维生素 K 应该与维生素 D 一起服用吗?",
        "source.coverage": "高亮的段落被图中的论断引用;灰色段落不含论断(标题、提问、署名)。",
        "source.uncovered": "尚未被任何论断涵盖",
        "source.complete": "文章的每个句子都已被论断引用,或标明不含论断。",
        "home.title": "k2d3:维生素 K2 应该与维生素 D3 一起服用吗?",
        "home.lead": "k2d3 是一篇文章中的论断、证据和引文构成的知识图谱,以关联数据发布,"
        "并提供 SPARQL 1.1 查询端点。",
        "home.answer": "文章的答案(逐项结局)", "home.verdict": "结论表,附每行背后的论断与证据",
        "home.positions": "作者肯定、否定或未下定论的内容", "home.gaps": "缺少哪些试验",
        "home.explore": "浏览", "home.void": "数据集描述(VoID)",
        "home.dumps": "数据下载", "home.healthz": "健康检查", "dumps.title": "数据下载",
        "dumps.file": "文件", "dumps.size": "大小", "dumps.sha256": "SHA-256",
        "dumps.none": "这个存储没有生成数据下载文件。", "label": "标签", "iri": "IRI",
        "value": "值", "property": "属性",
        "nav.search": "搜索", "search.title": "搜索图谱",
        "api.title": "HTTP 接口", "api.lead": "每个路由及其参数、格式和状态码,均由路由生成;"
        "OpenAPI 3.1 版本见:", "api.parameters": "参数", "api.required": "必填",
        "api.body": "请求体", "api.responses": "响应",
        "search.label": "维生素、病症、论断、查询等的名称(中文或英文)", "search.button": "搜索",
        "search.queries": "预设查询", "search.resources": "图谱中", "search.none": "没有找到。",
        "claim.status": "谁这样说,以及文章的结论",
        "claim.affirmed": "文章作者本人肯定这一论断。",
        "claim.reported": "这是文章转述并加以评估的论断,并非文章本身的主张。请看结论。",
        "claim.inferred": "这是 k2d3 整理者的推断,文章并未如此陈述。",
        "claim.verdict": "结论", "claim.evaluated_by": "评估者", "claim.asserted_by": "主张者",
        "claim.hedge": "限定语", "claim.gaps": "文章指出缺失的证据",
    },
}

#: The ontology page's and the query editor's strings, in a block of their own. The editor's
#: ``editor.js.*`` strings travel to its script in the page's JSON configuration; ``{name}``
#: marks a value the script fills in.
_ONTOLOGY_AND_EDITOR: dict[str, dict[str, str]] = {
    "en": {
        "ontology.namespaces": "Namespaces", "ontology.prefix": "Prefix",
        "ontology.defined": "defined", "ontology.licence": "Licence",
        "ontology.untranslated": "Not yet translated: shown in its original language",
        "editor.title": "SPARQL query editor", "editor.endpoint": "Endpoint",
        "editor.limits": "at most {rows} rows and {seconds} s per query",
        "editor.service_description": "service description", "editor.examples": "Examples",
        "editor.examples_filter": "Filter the examples",
        "editor.examples_none": "No example matches.",
        "editor.examples_empty": "No canned queries are stored yet.",
        "editor.noscript": "The editor needs JavaScript; you can also send queries with",
        "editor.js.prefix_undeclared": "The prefix {prefix}: is used but not declared (line "
        "{line}, column {column}). Add this line at the top of the query:",
        "editor.js.prefix_unknown": "k2d3 does not know the namespace of {prefix}:; write its "
        "IRI between the angle brackets.",
        "editor.js.add_prefix": "Add this line",
        "editor.js.keyword_suggest": "{word} (line {line}, column {column}) is not a SPARQL "
        "keyword; did you mean {suggestion}?",
        "editor.js.keyword_unknown": "{word} (line {line}, column {column}) is not a SPARQL "
        "keyword or function: a variable starts with ?, a prefixed name has a colon "
        "(prefix:name).",
        "editor.js.string_unclosed": "The string that starts at line {line}, column {column} "
        "is not closed: end it with {quote} on the same line.",
        "editor.js.syntax": "The query has a syntax error at line {line}, column {column}.",
        "editor.js.expected": "The parser expected {expected} there.",
        "editor.js.name_char": "a name", "editor.js.or": " or ",
        "editor.js.show": "Show in the query", "editor.js.endpoint_said": "The endpoint's message",
        "editor.js.error_status": "The endpoint answered {status}.",
        "editor.js.no_response": "The endpoint did not answer: is the server running?",
        "editor.js.term_suggest": "{term} is not a term of the ontology; did you mean "
        "{suggestion}?",
        "editor.js.term_unknown": "{term} is not a term of the ontology.",
        "editor.js.term_empty": "That may be why the answer is empty.",
        "editor.js.ontology": "The ontology's terms",
    },
    "zh": {
        "ontology.namespaces": "命名空间", "ontology.prefix": "前缀",
        "ontology.defined": "定义类", "ontology.licence": "许可协议",
        "ontology.untranslated": "尚无中文定义，显示英文原文",
        "editor.title": "SPARQL 查询编辑器", "editor.endpoint": "端点",
        "editor.limits": "每个查询最多 {rows} 行、{seconds} 秒",
        "editor.service_description": "服务描述", "editor.examples": "示例查询",
        "editor.examples_filter": "筛选示例", "editor.examples_none": "没有匹配的示例。",
        "editor.examples_empty": "尚未存储预设查询。",
        "editor.noscript": "编辑器需要 JavaScript；也可以这样发送查询：",
        "editor.js.prefix_undeclared": "前缀 {prefix}: 已使用但未声明（第 {line} 行第 {column} "
        "列）。请在查询开头加上这一行：",
        "editor.js.prefix_unknown": "k2d3 不知道 {prefix}: 的命名空间；"
        "请在尖括号之间写上它的 IRI。",
        "editor.js.add_prefix": "添加这一行",
        "editor.js.keyword_suggest": "{word}（第 {line} 行第 {column} 列）不是 SPARQL 关键字；"
        "是不是想写 {suggestion}？",
        "editor.js.keyword_unknown": "{word}（第 {line} 行第 {column} 列）不是 SPARQL 关键字或"
        "函数：变量以 ? 开头，带前缀的名称含有冒号（前缀:名称）。",
        "editor.js.string_unclosed": "从第 {line} 行第 {column} 列开始的字符串没有结束："
        "请在同一行用 {quote} 结束它。",
        "editor.js.syntax": "查询在第 {line} 行第 {column} 列有语法错误。",
        "editor.js.expected": "此处应为 {expected}。",
        "editor.js.name_char": "名称", "editor.js.or": " 或 ",
        "editor.js.show": "在查询中显示", "editor.js.endpoint_said": "端点返回的原始消息",
        "editor.js.error_status": "端点返回 {status}。",
        "editor.js.no_response": "端点没有响应：服务器在运行吗？",
        "editor.js.term_suggest": "{term} 不是本体中的术语；是不是想写 {suggestion}？",
        "editor.js.term_unknown": "{term} 不是本体中的术语。",
        "editor.js.term_empty": "这可能是结果为空的原因。",
        "editor.js.ontology": "本体中的术语",
    },
}
for _lang, _strings in _ONTOLOGY_AND_EDITOR.items():
    MESSAGES[_lang].update(_strings)


def _accept_language(header: str | None) -> str | None:
    """The supported language with the highest q-value in an Accept-Language header."""
    best: tuple[float, int, str] | None = None
    for position, item in enumerate((header or "").split(",")):
        tag, _, params = item.strip().partition(";")
        q = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                q = float(params[2:])
            except ValueError:
                continue
        primary = tag.strip().lower().split("-")[0]
        if primary in LANGS and q > 0 and (best is None or (q, -position) > best[:2]):
            best = (q, -position, primary)
    return best[2] if best else None


def pick_lang(req: Request | None = None) -> str:
    """``"en"`` or ``"zh"`` for this request: ``?lang=`` first, then Accept-Language."""
    req = req if req is not None else request
    asked = (req.args.get("lang") or "").lower().split("-")[0]
    if asked in LANGS:
        return asked
    return _accept_language(req.headers.get("Accept-Language")) or DEFAULT_LANG


def translate(key: str, lang: str) -> str:
    """The UI string ``key`` in ``lang`` (English, then the key itself, as fallbacks)."""
    return MESSAGES.get(lang, {}).get(key) or MESSAGES[DEFAULT_LANG].get(key, key)


def with_lang(path: str, lang: str, root: str = "") -> str:
    """A local link: ``root`` (the app's mount point) + ``path``, with ``lang=zh`` added when
    the page is Chinese (English is the default), before any ``#fragment``."""
    path, hash_, fragment = path.partition("#")
    if path.startswith("/"):
        path = root + path
    if lang != DEFAULT_LANG and "lang=" not in path:
        path += ("&" if "?" in path else "?") + urlencode({"lang": lang})
    return path + hash_ + fragment


def _switch_url(req: Request, lang: str) -> str:
    other = "en" if lang == "zh" else "zh"
    args = [(k, v) for k, v in req.args.items(multi=True) if k != "lang"] + [("lang", other)]
    return req.script_root + req.path + "?" + urlencode(args)


def template_context() -> dict[str, Any]:
    """Jinja globals for ``base.html``: lang, t(), href(), lang_switch (a context processor)."""
    lang = pick_lang(request)
    translate_: Callable[[str], str] = lambda key: translate(key, lang)  # noqa: E731
    return {
        "lang": lang,
        "t": translate_,
        "href": lambda path: with_lang(path, lang, request.script_root),
        "lang_switch": _switch_url(request, lang),
    }
