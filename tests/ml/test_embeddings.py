"""The optional sentence encoder: BERT's tokenizer, the numpy forward pass, and how the classifiers use it, record
it and retrain without it. A tiny BERT with random weights, written here in the same file layout as the packaged
model, stands in for the 90 MB one, so every path runs without the extra installed; the real model is checked
only where it is installed."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import pytest

from saypro.ml import embeddings
from saypro.ml import services as ml
from saypro.ml.models import TextModel
from saypro.ml.services import classify, text_model_train

from .generated import topic_texts

VOCABULARY = [
    "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]",
    "my", "card", "has", "not", "arrived", "refund", "un", "##believ", "##able", "cafe", "!", "?", ",", "'",
    "t", "_", "£", "日", "password", "parcel", "payment", "login", "order", "please", "the",
]  # fmt: skip


def write_safetensors(path: Path, tensors: dict[str, np.ndarray]) -> None:
    header: dict[str, object] = {"__metadata__": {"format": "pt"}}
    body = b""
    for name, array in tensors.items():
        raw = np.ascontiguousarray(array).tobytes()
        kind = {np.dtype(np.float32): "F32", np.dtype(np.float16): "F16"}[array.dtype]
        header[name] = {"dtype": kind, "shape": list(array.shape), "data_offsets": [len(body), len(body) + len(raw)]}
        body += raw
    encoded = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(encoded)) + encoded + body)


def tiny_bert(directory: Path, *, hidden: int = 8, heads: int = 2, layers: int = 2, seed: int = 0) -> Path:
    """A two-layer BERT with random weights, stored as sentence-transformers stores all-MiniLM-L6-v2."""
    random = np.random.default_rng(seed)

    def weight(*shape: int) -> np.ndarray:
        return random.normal(0, 0.5, shape).astype(np.float32)

    tensors = {
        "embeddings.word_embeddings.weight": weight(len(VOCABULARY), hidden),
        "embeddings.position_embeddings.weight": weight(300, hidden),
        "embeddings.token_type_embeddings.weight": weight(2, hidden),
        "embeddings.LayerNorm.weight": 1 + weight(hidden),
        "embeddings.LayerNorm.bias": weight(hidden),
    }
    for index in range(layers):
        prefix = f"encoder.layer.{index}."
        for part in ("query", "key", "value"):
            tensors[f"{prefix}attention.self.{part}.weight"] = weight(hidden, hidden)
            tensors[f"{prefix}attention.self.{part}.bias"] = weight(hidden)
        tensors[f"{prefix}attention.output.dense.weight"] = weight(hidden, hidden)
        tensors[f"{prefix}attention.output.dense.bias"] = weight(hidden)
        tensors[f"{prefix}intermediate.dense.weight"] = weight(4 * hidden, hidden)
        tensors[f"{prefix}intermediate.dense.bias"] = weight(4 * hidden)
        tensors[f"{prefix}output.dense.weight"] = weight(hidden, 4 * hidden)
        tensors[f"{prefix}output.dense.bias"] = weight(hidden)
        for norm in ("attention.output.LayerNorm", "output.LayerNorm"):
            tensors[f"{prefix}{norm}.weight"] = 1 + weight(hidden)
            tensors[f"{prefix}{norm}.bias"] = weight(hidden)
    directory.mkdir(parents=True, exist_ok=True)
    write_safetensors(directory / "model.safetensors", tensors)
    (directory / "vocab.txt").write_text("\n".join(VOCABULARY) + "\n", encoding="utf-8")
    config = {"num_attention_heads": heads, "num_hidden_layers": layers, "layer_norm_eps": 1e-12}
    (directory / "config.json").write_text(json.dumps(config))
    return directory


def reference_embedding(directory: Path, ids: list[int]) -> np.ndarray:
    """BERT written out plainly, token by token and head by head, in float64: what the fast pass must equal."""
    from math import erf, sqrt

    tensors = embeddings.read_safetensors(directory / "model.safetensors")
    config = json.loads((directory / "config.json").read_text())

    def get(name: str) -> np.ndarray:
        return tensors[name].astype(np.float64)

    def norm(vector: np.ndarray, prefix: str) -> np.ndarray:
        centred = vector - vector.mean()
        return centred / np.sqrt((centred**2).mean() + 1e-12) * get(f"{prefix}.weight") + get(f"{prefix}.bias")

    def dense(vector: np.ndarray, prefix: str) -> np.ndarray:
        return get(f"{prefix}.weight") @ vector + get(f"{prefix}.bias")

    states = [
        norm(
            get("embeddings.word_embeddings.weight")[token]
            + get("embeddings.position_embeddings.weight")[position]
            + get("embeddings.token_type_embeddings.weight")[0],
            "embeddings.LayerNorm",
        )
        for position, token in enumerate(ids)
    ]
    heads = config["num_attention_heads"]
    for index in range(config["num_hidden_layers"]):
        prefix = f"encoder.layer.{index}."
        queries = [dense(s, f"{prefix}attention.self.query") for s in states]
        keys = [dense(s, f"{prefix}attention.self.key") for s in states]
        values = [dense(s, f"{prefix}attention.self.value") for s in states]
        width = len(states[0]) // heads
        updated = []
        for position, state in enumerate(states):
            context = np.zeros_like(state)
            for head in range(heads):
                part = slice(head * width, (head + 1) * width)
                scores = np.array([queries[position][part] @ key[part] / sqrt(width) for key in keys])
                weights = np.exp(scores - scores.max())
                weights /= weights.sum()
                context[part] = sum(w * value[part] for w, value in zip(weights, values, strict=True))
            attended = dense(context, f"{prefix}attention.output.dense")
            attended = norm(state + attended, f"{prefix}attention.output.LayerNorm")
            hidden = dense(attended, f"{prefix}intermediate.dense")
            hidden = np.array([0.5 * h * (1 + erf(h / sqrt(2))) for h in hidden])
            updated.append(norm(attended + dense(hidden, f"{prefix}output.dense"), f"{prefix}output.LayerNorm"))
        states = updated
    pooled = np.mean(states, axis=0)
    return pooled / np.linalg.norm(pooled)


@pytest.fixture(autouse=True)
def _fresh_model_cache():
    ml._loaded.clear()
    yield
    ml._loaded.clear()


@pytest.fixture
def tiny(tmp_path):
    return embeddings.SentenceEncoder(tiny_bert(tmp_path / "tiny"))


@pytest.fixture
def with_tiny_encoder(monkeypatch, tiny):
    """The classifiers see the tiny encoder as the installed one."""
    monkeypatch.setattr(embeddings, "encoder", lambda: tiny)
    return tiny


# --- Tokenizer and forward pass -----------------------------------------------------------------------------------


def test_the_tokenizer_cuts_text_as_bert_uncased_does(tiny):
    pieces = tiny.tokenizer
    ids = {piece: index for index, piece in enumerate(VOCABULARY)}
    # Lower case, accents stripped, punctuation split off (currency signs are not punctuation), CJK on its own.
    assert pieces.words("My CARD hasn't arrived!") == ["my", "card", "hasn", "'", "t", "arrived", "!"]
    assert pieces.words("Café_£5 日本") == ["cafe", "_", "£5", "日", "本"]
    assert pieces.words("a\u200bb \x00c\td") == ["ab", "c", "d"]
    # Longest pieces first; a word with any unknown piece is one [UNK].
    assert pieces.encode("Unbelievable card") == [
        ids["[CLS]"], ids["un"], ids["##believ"], ids["##able"], ids["card"], ids["[SEP]"],
    ]  # fmt: skip
    assert pieces.encode("unknownword card") == [ids["[CLS]"], ids["[UNK]"], ids["card"], ids["[SEP]"]]
    assert pieces.encode("") == [ids["[CLS]"], ids["[SEP]"]]
    long = pieces.encode("card " * 400)
    assert len(long) == embeddings.MAX_TOKENS and long[-1] == ids["[SEP]"]


def test_the_forward_pass_is_bert_with_mean_pooling(tmp_path, tiny):
    texts = ["my card has not arrived", "refund please!", "the parcel, the order?", "login"]
    fast = tiny.encode(texts)
    for text, row in zip(texts, fast, strict=True):
        expected = reference_embedding(tmp_path / "tiny", tiny.tokenizer.encode(text))
        assert np.allclose(row, expected, atol=1e-5)
    assert np.allclose(np.linalg.norm(fast, axis=1), 1.0, atol=1e-6)


def test_batches_cache_and_order_do_not_change_an_embedding(tiny):
    texts = ["my card has not arrived", "refund", "login please", "my card has not arrived", "the order"]
    together = tiny.encode(texts)
    tiny.forget()
    alone = np.vstack([tiny.encode([text]) for text in reversed(texts)])[::-1]
    assert np.allclose(together, alone, atol=1e-6)
    # From the cache: exactly the rows last computed (a batch and a single text may differ in the last bits).
    assert np.array_equal(tiny.encode(texts), alone)


def test_half_precision_weights_are_read_as_float32(tmp_path):
    values = np.arange(6, dtype=np.float16).reshape(2, 3)
    write_safetensors(tmp_path / "half.safetensors", {"w": values})
    read = embeddings.read_safetensors(tmp_path / "half.safetensors")["w"]
    assert read.dtype == np.float32 and np.array_equal(read, values.astype(np.float32))


def test_weights_that_are_not_the_published_model_are_refused(tmp_path, monkeypatch):
    package = tmp_path / "site" / embeddings.PACKAGE
    tiny_bert(package / "model")
    (package / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    embeddings._installed.cache_clear()
    try:
        assert embeddings.encoder() is None and embeddings.encoder_name() == ""
    finally:
        embeddings._installed.cache_clear()


# --- The classifiers with and without it --------------------------------------------------------------------------


@pytest.mark.django_db
def test_with_the_encoder_installed_versions_use_and_record_it(with_tiny_encoder):
    texts, labels = topic_texts(300, seed=3)
    model = text_model_train(name="test.topics", texts=texts, labels=labels, folds=0)
    assert model.encoder == embeddings.encoder_name() != ""
    pipeline = ml.active_model("test.topics").pipeline
    assert [name for name, _ in pipeline.named_steps["features"].transformer_list] == ["words", "chars", "meaning"]
    assert classify("test.topics", "refund my card payment").label == "billing"


@pytest.mark.django_db
def test_without_the_encoder_versions_use_ngrams_alone(monkeypatch):
    monkeypatch.setattr(embeddings, "encoder", lambda: None)
    texts, labels = topic_texts(300, seed=3)
    model = text_model_train(name="test.topics", texts=texts, labels=labels, folds=0)
    assert model.encoder == ""
    pipeline = ml.active_model("test.topics").pipeline
    assert [name for name, _ in pipeline.named_steps["features"].transformer_list] == ["words", "chars"]
    assert classify("test.topics", "refund my card payment").label == "billing"


@pytest.mark.django_db
def test_a_task_can_keep_to_ngrams_where_the_encoder_is_installed(with_tiny_encoder):
    texts, labels = topic_texts(300, seed=3)
    model = text_model_train(name="test.topics", texts=texts, labels=labels, folds=2, embeddings=False)
    assert model.encoder == ""
    pipeline = ml.active_model("test.topics").pipeline
    assert [name for name, _ in pipeline.named_steps["features"].transformer_list] == ["words", "chars"]
    assert with_tiny_encoder._cache == {}  # never asked to encode anything


@pytest.mark.django_db
def test_a_version_whose_encoder_is_gone_is_retrained_not_loaded(
    monkeypatch, with_tiny_encoder, django_capture_on_commit_callbacks
):
    texts, labels = topic_texts(300, seed=3)

    def retrain():
        return text_model_train(name="test.meaning", texts=texts, labels=labels, folds=0)

    first = retrain()
    assert first.encoder
    ml.task_register(ml.Task("test.meaning", retrain=retrain))
    try:
        # The extra is uninstalled: the version that needs it is not loaded, and is retrained without it.
        monkeypatch.setattr(embeddings, "encoder", lambda: None)
        ml._loaded.clear()
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            assert classify("test.meaning", "refund my card payment") is None
        assert len(callbacks) == 1
        active = TextModel.objects.get(name="test.meaning", is_active=True)
        assert (active.version, active.encoder) == (2, "")
        assert classify("test.meaning", "refund my card payment").label == "billing"
        assert ml.text_model_rebuild(name="test.meaning") is None
    finally:
        ml._tasks.pop("test.meaning", None)


@pytest.mark.skipif(embeddings.encoder() is None, reason="the optional sentence encoder is not installed")
def test_the_installed_encoder_puts_paraphrases_closer_than_other_topics():
    model = embeddings.encoder()
    waiting, still, pin = model.encode(
        ["I am still waiting on my card", "my new card has not arrived yet", "how do I change my PIN"]
    )
    assert waiting @ still > waiting @ pin + 0.2
