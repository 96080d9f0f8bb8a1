"""Tiny transformer checkpoints and tokenizers built from configs, for tests (no hub, no network).

Each family gets the tokenizer kind its real models use: WordPiece for BERT/DistilBERT, byte-level BPE
for GPT-2/RoBERTa/Qwen2, a Metaspace (SentencePiece-style) BPE for Llama.
"""

from __future__ import annotations

from pathlib import Path

CORPUS = [
    "The quick brown fox jumps over the lazy dog.",
    "A cat sat on the mat and looked at the bird.",
    "Researchers deploy small transformers to edge devices every day.",
    "She gave him three apples, two pears and a banana!",
    "Attention heads may track syntax; probes may read properties.",
    "Quantized models run on Raspberry Pi and Jetson boards in 2026.",
    "Why would an explanation change after int8 compression?",
    "Café naïve résumé — 東京 and emoji 🙂 appear too.",
]

FAMILIES = ("bert", "distilbert", "roberta", "gpt2", "llama", "qwen2")
ENCODERS = ("bert", "distilbert", "roberta")
DECODERS = ("gpt2", "llama", "qwen2")


def _words() -> list[str]:
    import re

    return sorted({w for line in CORPUS for w in re.findall(r"\w+|[^\w\s]", line.lower())})


def wordpiece_tokenizer():
    """A BERT-style uncased WordPiece tokenizer over the test corpus (+ characters as ## pieces)."""
    from tokenizers import Tokenizer, normalizers, pre_tokenizers, processors
    from tokenizers.models import WordPiece

    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    words = _words()
    chars = sorted({c for w in words for c in w} | set("abcdefghijklmnopqrstuvwxyz0123456789"))
    vocab_list = specials + chars + [f"##{c}" for c in chars] + [w for w in words if len(w) > 1]
    vocab = {tok: i for i, tok in enumerate(dict.fromkeys(vocab_list))}
    tok = Tokenizer(WordPiece(vocab, unk_token="[UNK]", max_input_chars_per_word=100))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True, strip_accents=True, clean_text=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])],
    )
    from tokenizers import decoders

    tok.decoder = decoders.WordPiece()
    return tok


def byte_level_tokenizer(*, roberta: bool = False):
    """A GPT-2-style byte-level BPE; RoBERTa's adds <s> … </s> around the text."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

    specials = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"] if roberta else ["<|endoftext|>"]
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400, min_frequency=1, special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False,
    )
    tok.train_from_iterator(CORPUS * 3, trainer=trainer)
    if roberta:
        tok.post_processor = processors.RobertaProcessing(("</s>", tok.token_to_id("</s>")),
                                                          ("<s>", tok.token_to_id("<s>")))
    else:
        tok.post_processor = processors.ByteLevel(trim_offsets=False)
    return tok


def metaspace_tokenizer():
    """A Llama-style BPE over Metaspace pieces ('▁word'), with <s> prepended."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

    specials = ["<unk>", "<s>", "</s>"]
    tok = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=False))
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="first")
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="first")
    trainer = trainers.BpeTrainer(vocab_size=300, min_frequency=1, special_tokens=specials, show_progress=False)
    tok.train_from_iterator(CORPUS * 3, trainer=trainer)
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A", pair="<s> $A <s> $B", special_tokens=[("<s>", tok.token_to_id("<s>"))]
    )
    return tok


def _fast_tokenizer(family: str):
    from transformers import PreTrainedTokenizerFast

    if family in ("bert", "distilbert"):
        return PreTrainedTokenizerFast(
            tokenizer_object=wordpiece_tokenizer(), unk_token="[UNK]", pad_token="[PAD]",
            cls_token="[CLS]", sep_token="[SEP]", mask_token="[MASK]", model_max_length=64,
        )
    if family == "roberta":
        return PreTrainedTokenizerFast(
            tokenizer_object=byte_level_tokenizer(roberta=True), bos_token="<s>", eos_token="</s>",
            unk_token="<unk>", pad_token="<pad>", mask_token="<mask>", model_max_length=64,
        )
    if family == "llama":
        return PreTrainedTokenizerFast(
            tokenizer_object=metaspace_tokenizer(), bos_token="<s>", eos_token="</s>", unk_token="<unk>",
            pad_token="</s>", model_max_length=64, padding_side="left",
        )
    return PreTrainedTokenizerFast(
        tokenizer_object=byte_level_tokenizer(), bos_token="<|endoftext|>", eos_token="<|endoftext|>",
        unk_token="<|endoftext|>", pad_token="<|endoftext|>", model_max_length=64,
        padding_side="left" if family == "qwen2" else "right",
    )


def _config(family: str, vocab_size: int, tokenizer):
    import transformers as tf

    small = dict(num_hidden_layers=2, num_attention_heads=4, hidden_size=32, intermediate_size=64)
    if family == "bert":
        return tf.BertConfig(vocab_size=vocab_size, max_position_embeddings=64, **small)
    if family == "roberta":
        return tf.RobertaConfig(vocab_size=vocab_size, max_position_embeddings=66, pad_token_id=tokenizer.pad_token_id,
                                bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id, **small)
    if family == "distilbert":
        return tf.DistilBertConfig(vocab_size=vocab_size, max_position_embeddings=64, n_layers=2, n_heads=4,
                                   dim=32, hidden_dim=64)
    if family == "gpt2":
        return tf.GPT2Config(vocab_size=vocab_size, n_positions=64, n_embd=32, n_layer=2, n_head=4,
                             bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id)
    if family == "llama":
        return tf.LlamaConfig(vocab_size=vocab_size, max_position_embeddings=64, num_key_value_heads=2,
                              bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                              pad_token_id=tokenizer.pad_token_id, tie_word_embeddings=False, **small)
    if family == "qwen2":
        return tf.Qwen2Config(vocab_size=vocab_size, max_position_embeddings=64, num_key_value_heads=2,
                              bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                              pad_token_id=tokenizer.pad_token_id, tie_word_embeddings=True, **small)
    raise ValueError(f"unknown tiny family {family!r}; choose from {FAMILIES}")


def build_tiny_checkpoint(family: str, out_dir: Path, seed: int = 0) -> Path:
    """Save a randomly initialised tiny ``family`` model plus its fast tokenizer to ``out_dir``."""
    import torch
    import transformers as tf

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    tokenizer = _fast_tokenizer(family)
    config = _config(family, len(tokenizer), tokenizer)
    torch.manual_seed(seed)
    auto = tf.AutoModelForCausalLM if family in DECODERS else tf.AutoModel
    model = auto.from_config(config)
    model.eval()
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    return out_dir
