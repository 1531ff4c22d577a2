"""server/config.py: environment variables, their types, overrides and the token file."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.config import SETTINGS, default_store_path, load_settings


def test_defaults_use_the_per_user_data_directory(tmp_path: Path) -> None:
    s = load_settings(env={"XDG_DATA_HOME": str(tmp_path)})
    assert s.store == tmp_path / "k2d3" / "store"
    assert s.base_iri == "https://w3id.org/k2d3/"
    assert s.update_token is None
    assert s.union_default_graph is True
    assert s.federation_allow == ()


@pytest.mark.parametrize(
    ("var", "raw", "field", "value"),
    [
        ("K2D3_STORE", "/data/k2d3", "store", Path("/data/k2d3")),
        ("K2D3_MAX_ROWS", "25", "max_rows", 25),
        ("K2D3_QUERY_TIMEOUT", "2.5", "query_timeout", 2.5),
        ("K2D3_UNION_DEFAULT_GRAPH", "off", "union_default_graph", False),
        ("K2D3_FEDERATION_ALLOW", "https://a.example/ https://b.example/", "federation_allow",
         ("https://a.example/", "https://b.example/")),
        ("K2D3_UPDATE_TOKEN", "s3cret", "update_token", "s3cret"),
        ("K2D3_BASE_IRI", "https://example.org/k/", "base_iri", "https://example.org/k/"),
    ],
)
def test_environment_variables(var: str, raw: str, field: str, value: object) -> None:
    assert getattr(load_settings(env={var: raw}), field) == value


def test_bad_value_names_the_variable() -> None:
    with pytest.raises(ValueError, match="K2D3_MAX_ROWS"):
        load_settings(env={"K2D3_MAX_ROWS": "many"})
    with pytest.raises(ValueError, match="K2D3_UNION_DEFAULT_GRAPH"):
        load_settings(env={"K2D3_UNION_DEFAULT_GRAPH": "perhaps"})


def test_token_file_and_overrides(tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("from-file\n")
    s = load_settings(env={"K2D3_UPDATE_TOKEN_FILE": str(token)}, store=tmp_path / "s")
    assert s.update_token == "from-file"
    assert s.store == tmp_path / "s"
    assert load_settings(env={"K2D3_UPDATE_TOKEN": "env", "K2D3_UPDATE_TOKEN_FILE": str(token)}
                         ).update_token == "env"


def test_every_setting_has_a_variable() -> None:
    s = load_settings(env={})
    assert set(SETTINGS) == set(vars(s))
    assert default_store_path({"XDG_DATA_HOME": "/x"}) == Path("/x/k2d3/store")
