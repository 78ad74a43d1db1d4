"""The sentence encoder as a scikit-learn transformer, apart from saypro.ml.embeddings so that merely asking whether
the encoder is installed does not import scikit-learn."""

from __future__ import annotations

from typing import Any

from sklearn.base import BaseEstimator, TransformerMixin

from . import embeddings


class SentenceEmbeddings(TransformerMixin, BaseEstimator):
    """Each text's sentence embedding, as a sparse row beside the n-gram features. It holds no weights (a pickled
    pipeline stays small): they are read from the installed package when first needed, which is why a version
    records the encoder it needs (TextModel.encoder)."""

    def fit(self, texts: Any, labels: Any = None) -> SentenceEmbeddings:
        return self

    def transform(self, texts: Any) -> Any:
        from scipy import sparse

        model = embeddings.encoder()
        if model is None:
            raise RuntimeError(f"This classifier needs the {embeddings.NAME} sentence encoder, which is not installed.")
        return sparse.csr_matrix(model.encode([str(text) for text in texts]))
