"""A module whose positional outputs are exactly the bundle's taps, so the ONNX graph exposes them."""

from __future__ import annotations

import torch

from edgeaudit.bundle.manifest import attention_tap, hidden_state_tap


class TappedModel(torch.nn.Module):
    """forward(input_ids, attention_mask) -> (hidden_state_0..L, attention_0..L-1[, logits]).

    Encoders end with hidden_state_L, which *is* their final output (last_hidden_state); decoders add
    ``logits``. Keyword arguments are passed to the wrapped model, which also lets the TorchScript exporter
    (positional only) drive transformers 5 models.
    """

    def __init__(self, model: torch.nn.Module, num_layers: int, decoder: bool):
        super().__init__()
        self.model = model
        self.num_layers = num_layers
        self.decoder = decoder

    def output_names(self) -> list[str]:
        names = [hidden_state_tap(i) for i in range(self.num_layers + 1)]
        names += [attention_tap(i) for i in range(self.num_layers)]
        return names + (["logits"] if self.decoder else [])

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor):
        kwargs = dict(input_ids=input_ids, attention_mask=attention_mask,
                      output_attentions=True, output_hidden_states=True, return_dict=True)
        if self.decoder:
            kwargs["use_cache"] = False
        out = self.model(**kwargs)
        hidden = tuple(out.hidden_states)
        attentions = tuple(out.attentions)
        if len(hidden) != self.num_layers + 1 or len(attentions) != self.num_layers:
            raise RuntimeError(
                f"model returned {len(hidden)} hidden states and {len(attentions)} attentions, "
                f"expected {self.num_layers + 1} and {self.num_layers}"
            )
        outputs = hidden + attentions
        return outputs + (out.logits,) if self.decoder else outputs


def final_output_of(decoder: bool, num_layers: int) -> tuple[str, str]:
    """(graph output name, kind) of the model's own final output."""
    return ("logits", "logits") if decoder else (hidden_state_tap(num_layers), "last_hidden_state")
