"""server/build/sources.py and server/paths.py: the shipped copies and the stale-check
fingerprint."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest

from server import paths
from server.build import sources

SHARED = Path(__file__).resolve().parents[3] / "shared"


@pytest.mark.parametrize(
    ("shipped", "original"),
    [
        (paths.source_article(), SHARED / "source" / paths.SOURCE_FILENAME),
        (paths.identifiers_table(), SHARED / "identifiers.tsv"),
    ],
    ids=["article", "identifiers"],
)
def test_shipped_copies_match_shared(shipped: Path, original: Path) -> None:
    if not original.exists():
        pytest.skip(f"no shared/ beside this checkout ({original})")
    assert shipped.read_bytes() == original.read_bytes()


def test_article_is_read_in_nfc() -> None:
    text = sources.article_text()
    assert unicodedata.is_normalized("NFC", text)
    assert "维生素 K 应该与维生素 D 一起服用吗" in text
    assert "\u00a0" in text, "the article's non-breaking spaces are kept"


def test_every_source_kind_is_found() -> None:
    assert sources.ontology_file().exists()
    assert sources.shapes_file().exists()
    assert len(sources.data_files()) >= 5
    assert sources.inferred_file() not in sources.data_files()


def test_fingerprint_changes_with_content(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = sources.fingerprint()
    assert before == sources.fingerprint()
    copy = tmp_path / "article.md"
    copy.write_text(paths.source_article().read_text(encoding="utf-8") + " ")
    monkeypatch.setattr(paths, "source_article", lambda: copy)
    assert sources.fingerprint() != before
