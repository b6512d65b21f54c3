"""The engine: wires corpus, index, retrieval and answer composition; the only thing front ends import."""
from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

from .answer import Answer, AnswerSpan, Composer, expected_answer_type, not_covered
from .chunking import make_chunks, make_sentence_splitter, split_sentences, splitter_kind
from .config import (DEFAULT_TOP_K, MAX_TOP_K, ChunkSettings, resolve_corpus_dir, resolve_index_dir,
                     resolve_model_name)
from .corpus import Document, corpus_hash, load_corpus
from .embedding import Embedder
from .index import (FORMAT_VERSION, IndexCorrupt, IndexData, IndexMissing, IndexStale, build_index,
                    load_index, save_index)
from .lexical import terms
from .abbreviations import Abbreviations
from .question import QuestionError, Reading, clean_question, context_for, read_question, retrieval_text
from .spelling import Speller
from .retrieval import Query, Retriever
from .structure import asks, question_topics, title_span

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Prepared:
    question: str           # as typed (cleaned): the answer's ``question``
    notes: list[str]
    context: list[str]
    topics: frozenset[str]
    reading: Reading        # as read: preamble dropped, spelling and abbreviations rewritten

    def embed_text(self, text: str) -> str:
        return " ".join([*self.context, retrieval_text(text)])


def _answer_id(question: str, history: list[str]) -> str:
    return hashlib.sha1("\x1f".join([*history, question]).encode("utf-8", "surrogatepass")).hexdigest()[:12]


class Engine:
    """Answers questions about the corpus with cited passages.

    Usage example:
        >>> from qa import Engine
        >>> engine = Engine.load()
        >>> answer = engine.ask("Why did it fall short?", history=["What did the 2015 agreement bar?"])
        >>> answer.answerable, answer.citations[0].paragraph > 0
        (True, True)

    Build one with :meth:`load`; it is safe to share between threads.
    """

    def __init__(self, docs: list[Document], data: IndexData, embedder: Embedder,
                 composer: Composer | None = None, retriever: Retriever | None = None,
                 corpus_dir: Path | None = None, index_dir: Path | None = None) -> None:
        self.docs = docs
        self.data = data
        self.embedder = embedder
        self.composer = composer or Composer()
        self.retriever = retriever or Retriever(data)
        self.corpus_dir = corpus_dir
        self.index_dir = index_dir
        self.titles = {doc.id: doc.title for doc in docs}
        self.documents = {doc.id: doc for doc in docs}
        texts = [s.text for s in data.sentences]
        self.speller = Speller(texts)
        self.abbreviations = Abbreviations(texts)

    @classmethod
    def load(cls, corpus: str | os.PathLike | None = None, index: str | os.PathLike | None = None,
             model: str | None = None, chunking: ChunkSettings | None = None,
             rebuild: bool = False, progress: bool = False) -> "Engine":
        """Load the corpus and its index, building the index when missing, stale or corrupt.

        Args:
            corpus: folder of ``.txt``/``.md`` documents. Defaults to ``$QA_CORPUS_DIR``, else ``corpus/``.
            index: index folder. Defaults to ``$QA_INDEX_DIR``, else ``index/``.
            model: sentence-transformers name or path. Defaults to ``$QA_MODEL``, else the packaged
                all-MiniLM-L6-v2.
            chunking: sentences per chunk and overlap. Defaults to :class:`ChunkSettings` ().
            rebuild: build even when the saved index is current. Defaults to False.
            progress: show a progress bar while embedding a build. Defaults to False.

        Raises:
            qa.corpus.CorpusError: the corpus is missing or unreadable.
            qa.embedding.ModelError: the model cannot be found or loaded.
        """
        corpus_dir, index_dir = resolve_corpus_dir(corpus), resolve_index_dir(index)
        chunking = chunking or ChunkSettings()
        docs = load_corpus(corpus_dir)
        embedder = Embedder(resolve_model_name(model))
        embedder.model  # load now: a missing model is reported before any work
        build_key = {"format": FORMAT_VERSION, "corpus_hash": corpus_hash(docs), "model": embedder.name,
                     "chunking": dataclasses.asdict(chunking), "splitter": splitter_kind()}
        data = None
        if not rebuild:
            try:
                data = load_index(index_dir, build_key)
            except IndexMissing:
                logger.info("no index in %s yet; building it", index_dir)
            except (IndexCorrupt, IndexStale) as exc:
                logger.warning("%s; rebuilding", exc)
        if data is None:
            data = cls.build(docs, embedder, chunking, build_key, index_dir, progress)
        engine = cls(docs, data, embedder, corpus_dir=corpus_dir, index_dir=index_dir)
        embedder.encode(["warm up"])
        return engine

    @staticmethod
    def build(docs: list[Document], embedder: Embedder, chunking: ChunkSettings, build_key: dict,
              index_dir: Path | None, progress: bool = False) -> IndexData:
        """Split, chunk and embed ``docs``; save to ``index_dir`` (kept in memory if it is not writable).

        When the save fails, the returned data's ``unsaved`` says why (``qa index`` then exits 1).
        """
        sentences = split_sentences(docs, make_sentence_splitter(docs))
        chunks = make_chunks(docs, sentences, chunking)
        data = build_index(sentences, chunks, embedder, build_key, progress=progress)
        if index_dir is not None:
            try:
                save_index(data, index_dir)
            except OSError as exc:
                data.unsaved = f"cannot write the index to {index_dir} ({exc.strerror or exc})"
                logger.warning("%s; serving it from memory only", data.unsaved)
        return data

    # -- asking -------------------------------------------------------------------------------

    def _prepare(self, question: str, history: list[str] | None) -> _Prepared:
        text, notes = clean_question(question)
        earlier = []
        for item in history or []:
            try:
                earlier.append(read_question(clean_question(item)[0], self.speller, self.abbreviations).text)
            except QuestionError:
                continue
        reading = read_question(text, self.speller, self.abbreviations)
        if reading.preamble:   # "I read about the G20 meeting. When was it held?": the lead-in is context
            earlier = [*earlier, reading.preamble]
        return _Prepared(text, notes, context_for(reading.text, earlier), question_topics(reading.text), reading)

    def _queries(self, prepared: list[_Prepared]) -> list[tuple[Query, str]]:
        """Embed each question as read and, when spelling changed it, as typed too, keeping the reading whose
        best sentence is closer (a rare word such as "liken" may be what was meant).

        Returns:
            ``(query, text)`` per question: ``text`` is the reading used.
        """
        texts = [p.reading.text for p in prepared]
        extra = [i for i, p in enumerate(prepared) if p.reading.uncorrected != p.reading.text]
        all_texts = [p.embed_text(t) for p, t in zip(prepared, texts)]
        all_texts += [prepared[i].embed_text(prepared[i].reading.uncorrected) for i in extra]
        vectors, tokens = self.embedder.encode_with_tokens(all_texts)
        chosen = list(range(len(prepared)))
        if extra:
            dense = self.retriever.dense_scores(vectors).max(axis=1)
            for n, i in enumerate(extra, start=len(prepared)):
                if dense[n] > dense[i]:
                    chosen[i], texts[i] = n, prepared[i].reading.uncorrected
        return [(Query(vectors[c], tokens[c][1:-1], terms(retrieval_text(t)), terms(" ".join(p.context)),
                       p.topics, asks(t)), t)
                for p, c, t in zip(prepared, chosen, texts)]

    def make_query(self, question: str, history: list[str] | None = None) -> Query:
        """The retrieval :class:`~qa.retrieval.Query` for one question (embeds it)."""
        return self._queries([self._prepare(question, history)])[0][0]

    def ask(self, question: str, history: list[str] | None = None, top_k: int | None = None,
            id: str | None = None) -> Answer:
        """Answer one question.

        Args:
            question: the user's question (control characters are stripped, over 2,000 characters cut).
            history: earlier questions of the conversation, oldest first. Defaults to none.
            top_k: number of citations. Defaults to 3; at most 20.
            id: the answer's id. Defaults to a hash of the question and history.

        Returns:
            An :class:`Answer`; ``answerable`` is False when the article does not cover the question.

        Raises:
            QuestionError: the question is empty once cleaned, or ``top_k`` is out of range.
        """
        return self.ask_many([question], [history or []], top_k=top_k, ids=[id] if id else None)[0]

    def ask_many(self, questions: list[str], histories: list[list[str]] | None = None,
                 top_k: int | None = None, ids: list[str] | None = None) -> list[Answer]:
        """Answer many questions, embedding them all in one pass.

        Args:
            questions: the questions.
            histories: one history list per question (oldest first). Defaults to no history.
            top_k: citations per answer. Defaults to 3; at most 20.
            ids: one id per question. Defaults to hashes of question and history.

        Returns:
            One :class:`Answer` per question, in order; ``latency_ms`` is the batch time divided
            by the number of questions.

        Raises:
            QuestionError: a question is empty once cleaned (the message gives its position),
                or ``top_k`` is out of range, or the list lengths differ.
        """
        started = time.perf_counter()
        top_k = DEFAULT_TOP_K if top_k is None else top_k
        if not isinstance(top_k, int) or not 1 <= top_k <= MAX_TOP_K:
            raise QuestionError(f"top_k must be an integer from 1 to {MAX_TOP_K}, got {top_k!r}")
        histories = histories if histories is not None else [[] for _ in questions]
        if len(histories) != len(questions) or (ids is not None and len(ids) != len(questions)):
            raise QuestionError(f"got {len(questions)} questions but {len(histories)} histories"
                                + ("" if ids is None else f" and {len(ids)} ids"))
        prepared = []
        for position, (question, history) in enumerate(zip(questions, histories), start=1):
            try:
                prepared.append(self._prepare(question, history))
            except QuestionError as exc:
                raise QuestionError(str(exc) if len(questions) == 1 else f"question {position}: {exc}") from exc
        if not prepared:
            return []
        queries = self._queries(prepared)
        hit_lists = self.retriever.search([q for q, _ in queries], max(top_k, 3))
        data = self.data
        answers = []
        for i, (p, (_, read), hits) in enumerate(zip(prepared, queries, hit_lists)):
            unknown = self.retriever.unknown_names(read)
            answerable, chosen, citations = self.composer.compose(
                hits, data.chunks, data.sentences, self.titles, unknown, expected_answer_type(read), read)
            spans = [AnswerSpan(s.doc, s.start, s.end) for s in chosen]
            headline = self._headline(citations) if "title" in p.topics else None
            if headline is not None:   # "What is the headline?": the title, quoted from the page
                answerable, spans = True, [headline]
            answers.append(Answer(
                id=ids[i] if ids else _answer_id(p.question, p.context),
                question=p.question,
                answerable=answerable,
                answer=" ".join(self._quote(span) for span in spans) if answerable else not_covered(unknown),
                answer_spans=spans,
                citations=citations[:top_k],
                latency_ms=0.0,
                notes=[*p.notes, *p.reading.notes, *(p.reading.spelling_notes if read == p.reading.text else ())],
            ))
        elapsed = (time.perf_counter() - started) * 1000 / len(answers)
        for answer in answers:
            answer.latency_ms = round(elapsed, 2)
        return answers

    def _headline(self, citations) -> AnswerSpan | None:
        """Where the title of the best-cited document is in its text, or None."""
        if not citations:
            return None
        span = title_span(self.documents[citations[0].doc])
        return AnswerSpan(citations[0].doc, span.start, span.end) if span else None

    def _quote(self, span: AnswerSpan) -> str:
        return self.documents[span.doc].text[span.start:span.end]

    def reload(self) -> "Engine":
        """A new engine from the same corpus, index folder and model (rebuilding if the corpus changed).

        The current engine is untouched, so a server can keep answering with it when this fails.

        Raises:
            qa.corpus.CorpusError: the corpus is now missing or unreadable.
        """
        return Engine.load(corpus=self.corpus_dir, index=self.index_dir, model=self.embedder.name)

    # -- facts for front ends -----------------------------------------------------------------

    def stats(self) -> dict:
        """Counts and model for health checks: ``{"documents", "sentences", "chunks", "model"}``."""
        return {"documents": len(self.docs), "sentences": len(self.data.sentences),
                "chunks": len(self.data.chunks), "model": self.embedder.name}
