"""Load a local Hugging Face checkpoint for export, or say exactly why it cannot be exported."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgeaudit.exporters.families import CONFIG_SPELLINGS, config_value, family_of
from edgeaudit.exporters.gguf_source import describe_gguf, drop_gguf_quantizer, find_gguf

from edgeaudit.errors import ExportError, MissingExtraError

WEIGHT_PATTERNS = ("*.safetensors", "pytorch_model*.bin", "model*.bin", "*.safetensors.index.json")
# Any one of these lets transformers build the model's real tokenizer. Without them it silently builds a
# placeholder (BERT: 5 special tokens; GPT-2: an empty vocabulary) and every word becomes [UNK] or nothing.
TOKENIZER_FILES = ("tokenizer.json", "vocab.txt", "vocab.json", "tokenizer.model", "spiece.model",
                   "sentencepiece.bpe.model")
# Model types whose checkpoints are causal language models even though transformers can also build
# encoder heads for them; everything listed is exported through the LM head (final output = logits).
DECODER_SUFFIXES = ("ForCausalLM", "LMHeadModel")


@dataclass
class LoadedCheckpoint:
    model: Any  # torch.nn.Module in eval mode, eager attention
    config: Any
    tokenizer: Any  # transformers fast tokenizer
    directory: Path
    decoder: bool
    gguf: dict | None = None  # the manifest's model.gguf section when the source was a GGUF file
    tokenizer_json: Path | None = None  # the tokenizer.json file to copy into the bundle, when there is one

    @property
    def num_layers(self) -> int:
        return int(_required(self.config, "layers"))

    @property
    def num_heads(self) -> int:
        return int(_required(self.config, "heads"))

    @property
    def hidden_size(self) -> int:
        return int(_required(self.config, "width"))

    @property
    def max_positions(self) -> int:
        value = int(config_value(self.config, "positions") or 2048)
        return value - family_of(self.config.model_type).position_offset(self.config)


def _required(config: Any, fact: str) -> Any:
    value = config_value(config, fact)
    if value is None:
        raise ExportError(
            f"config.json of model_type {config.model_type!r} has none of {', '.join(CONFIG_SPELLINGS[fact])}",
            hint="this architecture is not supported by the generic export path",
        )
    return value


def is_decoder(config: Any) -> bool:
    architectures = list(getattr(config, "architectures", None) or [])
    if any(arch.endswith(DECODER_SUFFIXES) for arch in architectures):
        return True
    if architectures:
        return False
    from transformers.models.auto.modeling_auto import (
        MODEL_FOR_CAUSAL_LM_MAPPING_NAMES,
        MODEL_FOR_MASKED_LM_MAPPING_NAMES,
    )

    return config.model_type in MODEL_FOR_CAUSAL_LM_MAPPING_NAMES and config.model_type not in MODEL_FOR_MASKED_LM_MAPPING_NAMES


def _check_directory(model_dir: Path, need_weights: bool) -> None:
    if not model_dir.exists():
        raise ExportError(f"{model_dir}: no such directory", hint="pass a local Hugging Face checkpoint folder")
    if not model_dir.is_dir():
        raise ExportError(f"{model_dir}: is a file, expected a checkpoint directory with config.json")
    if not (model_dir / "config.json").is_file():
        raise ExportError(
            f"{model_dir}: no config.json",
            hint="this is not a Hugging Face checkpoint; save one with model.save_pretrained(DIR)",
        )
    if need_weights and not any(next(model_dir.glob(p), None) for p in WEIGHT_PATTERNS):
        raise ExportError(
            f"{model_dir}: no weights (model.safetensors or pytorch_model.bin)",
            hint="copy the weight files next to config.json, or pass --random-init for the random twin",
        )


def _load_config(model_dir: Path, trust_remote_code: bool, **source):
    from transformers import AutoConfig

    try:
        config = AutoConfig.from_pretrained(model_dir, trust_remote_code=trust_remote_code, **source)
    except ValueError as exc:
        first = str(exc).splitlines()[0]
        raise ExportError(
            f"{model_dir / 'config.json'}: unsupported architecture ({first[:200]})",
            hint="edgeaudit exports BERT/RoBERTa/DistilBERT/MiniLM encoders and GPT-2/Llama/Qwen2-style decoders",
        ) from None
    except OSError as exc:
        raise ExportError(f"{model_dir / 'config.json'}: cannot be read ({str(exc).splitlines()[0][:200]})") from None
    if getattr(config, "is_encoder_decoder", False):
        raise ExportError(
            f"{model_dir}: model_type {config.model_type!r} is an encoder-decoder model, which is not supported",
            hint="export the encoder or the decoder as a standalone checkpoint",
        )
    return config


def _require_tokenizer_files(folder: Path, what: str) -> None:
    if not any((folder / name).is_file() for name in TOKENIZER_FILES):
        raise ExportError(
            f"{folder}: {what} has no tokenizer files (none of {', '.join(TOKENIZER_FILES)})",
            hint="copy the model's tokenizer files next to config.json, or pass --tokenizer PATH "
                 "(a folder holding them, or the model's tokenizer.json)",
        )


def tokenizer_source(model_dir: Path, tokenizer: str | Path | None, gguf: bool) -> tuple[Path, dict, Path | None]:
    """Where the tokenizer comes from: (folder for AutoTokenizer, extra kwargs, tokenizer.json file or None).

    Refuses a checkpoint folder without tokenizer files instead of letting transformers invent one.
    """
    if tokenizer is None:
        if not gguf:  # a GGUF file carries its tokenizer inside
            _require_tokenizer_files(model_dir, "the checkpoint")
        json_file = model_dir / "tokenizer.json"
        return model_dir, {}, json_file if json_file.is_file() else None
    path = Path(tokenizer)
    if not path.exists():
        raise ExportError(f"option --tokenizer: {path}: no such file or directory",
                          hint="pass a folder with the model's tokenizer files, or its tokenizer.json")
    if path.is_dir():
        _require_tokenizer_files(path, "the --tokenizer folder")
        json_file = path / "tokenizer.json"
        return path, {}, json_file if json_file.is_file() else None
    return path.parent, {"tokenizer_file": str(path)}, path


def _load_tokenizer(model_dir: Path, trust_remote_code: bool, **source):
    from transformers import AutoTokenizer, PreTrainedTokenizerFast

    try:
        if "tokenizer_file" in source:  # a bare tokenizer.json given with --tokenizer
            tokenizer = PreTrainedTokenizerFast(tokenizer_file=source["tokenizer_file"])
        else:
            tokenizer = AutoTokenizer.from_pretrained(model_dir, use_fast=True, trust_remote_code=trust_remote_code,
                                                      **source)
    except Exception as exc:  # transformers raises many types here; all mean "no usable tokenizer"
        raise ExportError(
            f"{source.get('tokenizer_file', model_dir)}: no usable tokenizer "
            f"({type(exc).__name__}: {str(exc).splitlines()[0][:160] if str(exc) else ''})",
            hint="save the tokenizer beside the model with tokenizer.save_pretrained(DIR)",
        ) from None
    if not getattr(tokenizer, "is_fast", False) or getattr(tokenizer, "backend_tokenizer", None) is None:
        raise ExportError(
            f"{model_dir}: the tokenizer has no fast (tokenizers) version",
            hint="the device runtime needs tokenizer.json; convert the tokenizer with transformers first",
        )
    return tokenizer


def _check_vocabulary(tokenizer: Any, model: Any, where: str | Path) -> None:
    """A tokenizer with more ids than the embedding table belongs to another model: refuse before writing."""
    rows = int(model.get_input_embeddings().num_embeddings)
    if len(tokenizer) > rows:
        raise ExportError(
            f"{where}: the tokenizer has {len(tokenizer)} tokens but the model's embedding table has {rows} rows",
            hint="the tokenizer belongs to another model; pass the model's own with --tokenizer",
        )


def load_checkpoint(model_dir: str | Path, *, random_init: bool = False, seed: int = 0,
                    trust_remote_code: bool = False, tokenizer: str | Path | None = None) -> LoadedCheckpoint:
    """Load ``model_dir`` with eager attention (SDPA returns no attention weights) in eval mode.

    ``model_dir`` may also be a GGUF file (or a folder holding one): its tensors are dequantized to fp32.

    With ``random_init`` the same architecture is built from the config with fresh weights drawn under
    ``seed``: the random-model control (a probe that scores as well on it is reading the architecture or
    the data, not anything learned).

    ``tokenizer`` (a folder or a tokenizer.json) replaces the checkpoint's own; a checkpoint folder
    without tokenizer files and without ``tokenizer`` is refused.
    """
    import torch
    import transformers as tf

    tf.utils.logging.set_verbosity_error()
    tf.utils.logging.disable_progress_bar()
    model_dir = Path(model_dir)
    gguf_source = find_gguf(model_dir)
    gguf_facts = None
    if gguf_source is not None:  # dequantized by transformers + gguf; the manifest says so
        gguf_facts = describe_gguf(gguf_source)
        model_dir, source = gguf_source.folder, {"gguf_file": gguf_source.file_name}
    else:
        _check_directory(model_dir, need_weights=not random_init)
        source = {}
    config = _load_config(model_dir, trust_remote_code, **source)
    tok_dir, tok_source, tokenizer_json = tokenizer_source(model_dir, tokenizer, gguf_source is not None)
    if tokenizer is None:
        tok_source = source  # the GGUF file's own tokenizer, or the folder's
    fast_tokenizer = _load_tokenizer(tok_dir, trust_remote_code, **tok_source)
    decoder = is_decoder(config)
    auto = tf.AutoModelForCausalLM if decoder else tf.AutoModel
    try:
        if random_init:
            torch.manual_seed(seed)
            model = auto.from_config(config, attn_implementation="eager", trust_remote_code=trust_remote_code)
        else:
            model = auto.from_pretrained(model_dir, attn_implementation="eager", trust_remote_code=trust_remote_code,
                                         **source)
    except ValueError as exc:
        if "accelerate" in str(exc):
            raise MissingExtraError("loading a GGUF file needs the accelerate package",
                                    hint="pip install 'edgeaudit[export]' (it includes gguf and accelerate)") from None
        raise ExportError(
            f"{model_dir}: model_type {config.model_type!r} cannot be built as "
            f"{'a causal LM' if decoder else 'an encoder'} ({str(exc).splitlines()[0][:200]})",
            hint="this family is not supported by the generic export path",
        ) from None
    except OSError as exc:
        raise ExportError(f"{model_dir}: weights cannot be loaded ({str(exc).splitlines()[0][:200]})") from None
    if gguf_source is not None:
        drop_gguf_quantizer(model)
    _check_vocabulary(fast_tokenizer, model, tokenizer or model_dir)
    model.train(False)  # inference mode: dropout off, as in deployment
    return LoadedCheckpoint(model=model, config=config, tokenizer=fast_tokenizer, directory=model_dir,
                            decoder=decoder, gguf=gguf_facts, tokenizer_json=tokenizer_json)
