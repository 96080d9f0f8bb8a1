"""The family seam: shape facts under every family's config spelling, and RoBERTa's position offset."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from edgeaudit.exporters.families import CONFIG_SPELLINGS, Family, config_value, family_of


@pytest.mark.parametrize(("config", "layers", "width"), [
    ({"model_type": "bert", "num_hidden_layers": 6, "hidden_size": 384}, 6, 384),
    ({"model_type": "gpt2", "n_layer": 12, "n_embd": 768}, 12, 768),
    ({"model_type": "distilbert", "n_layers": 6, "dim": 768}, 6, 768),
    ({"model_type": "t5", "num_layers": 8, "d_model": 512}, 8, 512),
], ids=["bert", "gpt2", "distilbert", "t5"])
def test_shape_facts_are_read_under_each_family_spelling(config, layers, width):
    for given in (config, SimpleNamespace(**config)):  # config.json's dict and a transformers config object
        assert config_value(given, "layers") == layers and config_value(given, "width") == width
    assert config_value({"model_type": "x"}, "heads") is None
    assert set(CONFIG_SPELLINGS) == {"layers", "heads", "width", "positions"}


def test_roberta_likes_reserve_padding_idx_plus_one_positions():
    assert family_of("roberta").position_offset(SimpleNamespace(pad_token_id=1)) == 2
    assert family_of("xlm-roberta").name == "roberta"
    assert family_of("bert") == Family() and family_of("bert").position_offset(SimpleNamespace(pad_token_id=0)) == 0
    assert family_of(None).position_offset(SimpleNamespace()) == 0


def test_a_checkpoint_reports_the_usable_context_of_its_family():
    pytest.importorskip("transformers")
    from edgeaudit.exporters.checkpoint import LoadedCheckpoint
    from transformers import BertConfig, RobertaConfig

    def usable(config):
        return LoadedCheckpoint(model=None, config=config, tokenizer=None, directory=None, decoder=False).max_positions

    assert usable(RobertaConfig(max_position_embeddings=514, pad_token_id=1)) == 512
    assert usable(BertConfig(max_position_embeddings=512)) == 512
