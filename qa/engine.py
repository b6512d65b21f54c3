"""The engine: wires corpus, index, retrieval and answer composition; the only thing front ends import."""
from __future__ import annotations

import dataclasses
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

from .abbreviations import Abbreviations
from .analysis import QuestionInfo, QuestionReader
from .answer import Answer, Composer, Passages, avoids_repeating
from .building import BuildReport, build
from .chunking import splitter_kind
from .config import ChunkSettings, Settings
from .corpus import Document, SkippedFile, read_corpus
from .embedding import Embedder
from .followup import near, reference, resolve, wants_neighbourhood
from .index import FORMAT_VERSION, IndexCorrupt, IndexData, IndexMissing, IndexStale, load_index, save_index
from .question import QuestionError
from .retrieval import Query, Retriever
from .specifics import specific_words
from .spelling import Speller

logger = logging.getLogger(__name__)

#: Valid document ids named in the message for an unknown one (a wiki has thousands).
SHOWN_DOCS = 5
#: Most pages embedded again (:mod:`qa.page_vectors`) for one pass of :meth:`Engine.ask_many`; a batch scoped to
#: more pages is answered a few pages at a time, so that the pages it keeps held (past the memory bound if need be)
#: stay few.
PAGES_AT_ONCE = 8
#: A follow-up about what comes after its earlier answer ("what instead", "why that"): the sentences after that
#: answer gain up to this much (:func:`qa.followup.near`), in this many sentences, among this many chunks retrieved.
NEIGHBOUR_BONUS = {"next": 0.25, "reason": 0.2}
NEIGHBOUR_WINDOW = 6
NEIGHBOUR_CHUNKS = 12
#: An earlier question is answered again with at most this many questions before it (a follow-up leans on
#: two at most), so a long history costs a few answers, not one per question.
EARLIER_DEPTH = 2
#: A scope of one document id, several, or None (every document).
DocScope = str | list[str] | tuple[str, ...] | None


@dataclass(frozen=True)
class QuestionFailure:
    """A question of :meth:`Engine.ask_many` that cannot be asked, in place of its answer.

    ``error`` is the short reason ("empty question"); :meth:`to_dict` is the batch output's error entry.
    """

    id: str | None
    question: object
    error: str

    def to_dict(self) -> dict:
        """``{"id", "question", "error"}``."""
        return {"id": self.id, "question": self.question, "error": self.error}


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
                 corpus_dir: Path | None = None, index_dir: Path | None = None,
                 settings: Settings | None = None) -> None:
        self.settings = settings or Settings()
        self.docs = docs
        self.data = data
        self.embedder = embedder
        self.composer = composer or Composer(**dataclasses.asdict(self.settings.answer),
                                             corpus_sentences=len(data.sentences))
        self.retriever = retriever or Retriever(data, **dataclasses.asdict(self.settings.retrieval))
        self.corpus_dir = corpus_dir
        self.index_dir = index_dir
        self.titles = {doc.id: doc.title for doc in docs}
        self.documents = {doc.id: doc for doc in docs}
        self.passages = Passages(self.documents, data.chunks, data.sentences)
        self.reader = QuestionReader([s.text for s in data.sentences], known_terms=data.bm25.vocab)
        #: What the build that made this engine's index did (None when the saved index was used as it was).
        self.build_report: BuildReport | None = None
        #: Corpus files that could not be used, with the reason.
        self.skipped: list[SkippedFile] = []
        self.speller: Speller = self.reader.speller
        self.abbreviations: Abbreviations = self.reader.abbreviations
        self._sentence_table: dict[tuple[str, int], int] | None = None

    @classmethod
    def load(cls, corpus: str | os.PathLike | None = None, index: str | os.PathLike | None = None,
             model: str | None = None, chunking: ChunkSettings | None = None,
             rebuild: bool = False, progress: bool = False, settings: Settings | None = None,
             full: bool = False) -> "Engine":
        """Load the corpus and its index, building what is missing, changed, stale or corrupt.

        The saved index is used as it is when no corpus file changed (files are checked by size and
        modification time, then by content hash). Otherwise a new build re-embeds only the documents that
        were added or changed, copies the rest, and drops the removed ones.

        Args:
            corpus: folder of documents (see :func:`qa.corpus.corpus_files`). Defaults to ``settings.corpus_dir``.
            index: index folder. Defaults to ``settings.index_dir``.
            model: sentence-transformers name or path. Defaults to ``settings.model``.
            chunking: sentences per chunk and overlap. Defaults to ``settings.chunking``.
            rebuild: write a new build even when the saved index is current. Defaults to False.
            progress: show a progress bar while embedding a build. Defaults to False.
            settings: paths, model, top_k, retrieval weights and answer thresholds. Defaults to
                :meth:`Settings.from_env` (``$QA_CORPUS_DIR``, ``$QA_INDEX_DIR``, ``$QA_MODEL``, ``$QA_TOP_K``,
                ``$QA_RETRIEVAL_*``, ``$QA_ANSWER_*``; else the project's ``corpus/``, ``index/`` and the
                packaged all-MiniLM-L6-v2).
            full: re-embed every document instead of reusing the saved index's vectors. Defaults to False.

        Raises:
            qa.corpus.CorpusError: the corpus is missing or has no readable document.
            qa.embedding.ModelError: the model cannot be found or loaded.
            qa.config.SettingsError: an environment variable read for ``settings`` is not valid.
        """
        settings = (settings or Settings.from_env()).resolved(corpus, index, model)
        if chunking is not None:
            settings = dataclasses.replace(settings, chunking=chunking)
        corpus_dir, index_dir, chunking = settings.corpus_dir, settings.index_dir, settings.chunking
        embedder = Embedder(settings.model)
        build_key = {"format": FORMAT_VERSION, "model": embedder.name,
                     "chunking": dataclasses.asdict(chunking), "splitter": splitter_kind()}
        previous = None
        try:
            previous = load_index(index_dir, build_key)
        except IndexMissing:
            logger.info("no index in %s yet; building it", index_dir)
        except (IndexCorrupt, IndexStale) as exc:
            logger.warning("%s; rebuilding", exc)
        # A missing or empty corpus is reported before the model loads; unchanged files are not read again.
        docs, sources, skipped = read_corpus(corpus_dir, previous)
        embedder.model  # load now: a missing model is reported before any embedding
        report = None
        unchanged = previous is not None and [d.id for d in docs] == [d.id for d in previous.documents] and all(
            sources[d.id]["sha256"] == previous.sources.get(d.id, {}).get("sha256") for d in docs)
        if unchanged and not rebuild:
            data = previous
        else:
            if previous is not None and not unchanged:
                logger.info("corpus changed; updating the index in %s", index_dir)
            data, report = build(docs, sources, embedder, chunking, build_key,
                                 previous=None if full else previous, progress=progress, skipped=skipped)
            cls._save(data, index_dir)
            logger.info("%s", report.summary())
        engine = cls(data.documents, data, embedder, corpus_dir=corpus_dir, index_dir=index_dir, settings=settings)
        engine.build_report = report
        engine.skipped = skipped
        embedder.encode(["warm up"])
        return engine

    @staticmethod
    def _save(data: IndexData, index_dir: Path | None) -> None:
        """Save ``data`` to ``index_dir``; when that fails, keep it in memory and say why in ``data.unsaved``."""
        if index_dir is None:
            return
        try:
            save_index(data, index_dir)
        except OSError as exc:
            data.unsaved = f"cannot write the index to {index_dir} ({exc.strerror or exc})"
            logger.warning("%s; serving it from memory only", data.unsaved)

    # -- asking -------------------------------------------------------------------------------

    def analyze(self, question: str, history: list[str] | None = None) -> QuestionInfo:
        """The question as this corpus reads it (see :meth:`qa.analysis.QuestionReader.analyze`).

        Raises:
            QuestionError: the question is empty once cleaned.
        """
        return self.reader.analyze(question, history)

    def _embed(self, infos: list[QuestionInfo], docs: list[tuple[str, ...] | None] | None = None
               ) -> tuple[list[QuestionInfo], list[Query]]:
        """Embed each question's reading and its alternatives in one batch, keeping per question the reading
        whose best sentence is closer (a rare word such as "liken" may be what was meant).

        Returns:
            ``(infos, queries)``: each question with its chosen reading, and its retrieval query (limited to
            its entry of ``docs``, when given).
        """
        docs = docs or [None] * len(infos)
        readings = [info.reading for info in infos]
        extra = [(i, alt) for i, info in enumerate(infos) for alt in info.alternatives]
        vectors, tokens = self.embedder.encode_with_tokens(
            [r.embed_text for r in readings] + [alt.embed_text for _, alt in extra])
        chosen = list(range(len(infos)))
        if extra:   # judged within each question's documents, when it is scoped
            scopes = [docs[i] or () for i in range(len(infos))] + [docs[i] or () for i, _ in extra]
            dense = self.retriever.best_similarity(vectors, scopes)
            for n, (i, alt) in enumerate(extra, start=len(infos)):
                if dense[n] > dense[chosen[i]]:
                    chosen[i], readings[i] = n, alt
        infos = [info if reading is info.reading else info.choose(reading) for info, reading in zip(infos, readings)]
        queries = [Query(vectors[c], tokens[c][1:-1], list(info.reading.terms), list(info.context_terms),
                         info.topics, info.kind, doc)
                   for info, c, doc in zip(infos, chosen, docs)]
        return infos, queries

    def _continue_documents(self, infos: list[QuestionInfo], queries: list[Query],
                            histories: list[list[str]]) -> list[Query]:
        """``queries`` kept to the conversation's document, for unscoped questions with a history in a corpus of
        several documents: the document of the best answer to the previous question. A follow-up ("and why?",
        ``info.context``) is scoped to it; another question only prefers it (``Query.prefer``)."""
        rows, earlier = [], []
        for row, (query, history) in enumerate(zip(queries, histories)):
            if history and not query.scope and len(self.documents) > 1:
                try:
                    earlier.append(self.analyze(history[-1], list(history[:-1])))
                    rows.append(row)
                except QuestionError:      # an empty earlier question: nothing to continue
                    continue
        if not rows:
            return queries
        best = self.retriever.search(self._embed(earlier)[1], 1)
        queries = list(queries)
        for row, hits in zip(rows, best):
            if hits:
                doc = self.data.sentences[hits[0].best_sentence].doc
                keep = {"doc": (doc,), "as_alone": False} if infos[row].context else {"prefer": doc}
                queries[row] = dataclasses.replace(queries[row], **keep)
        return queries

    def _follow_earlier(self, infos: list[QuestionInfo], histories: list[list[str]],
                        docs: list[tuple[str, ...] | None] | None) -> tuple[list[QuestionInfo], list[set[int]]]:
        """Follow-ups that point into an earlier answer, read with it (the engine answers the earlier questions
        again: the history holds questions only).

        A follow-up naming one of the things an earlier answer listed ("where is the second one based" after
        "who wrote this piece"; "the other one", "the latter") is read with that thing in place of the phrase
        (:func:`qa.followup.resolve`, a note says so). A follow-up about what comes after the earlier answer
        ("what do they suggest instead", "why that area") gets that answer's sentence ids, for
        :meth:`_near_earlier`; other questions get an empty set. Every other follow-up that asks something new
        (:func:`qa.answer.avoids_repeating`) keeps where its earlier answer is (``QuestionInfo.earlier_answer``),
        so the composer prefers not to repeat it.
        """
        previous: list[set[int]] = [set() for _ in infos]
        rows = [row for row, (info, history) in enumerate(zip(infos, histories)) if history and info.context
                and (reference(info.text) or wants_neighbourhood(info.text) or avoids_repeating(info))]
        if not rows:
            return infos, previous
        asked, earlier = [], []   # (row, how far back), and the earlier question read with its own history
        for row in rows:
            history = histories[row]
            for back in (1, 2) if reference(infos[row].text) else (1,):
                if len(history) >= back:
                    try:
                        earlier.append(self.analyze(history[-back], list(history[:-back])[-EARLIER_DEPTH:]))
                        asked.append((row, back))
                    except QuestionError:
                        continue
        answers = self._answer(earlier, None, [None] * len(earlier),
                               [docs[row] if docs else None for row, _ in asked],
                               [list(histories[row][:-back])[-EARLIER_DEPTH:] for row, back in asked])
        by_row: dict[int, list] = {}
        for (row, back), answer in zip(asked, answers):
            by_row.setdefault(row, []).append(answer)
        infos = list(infos)
        for row, found in by_row.items():
            info = infos[row]
            ref = reference(info.text)
            if ref is not None:
                thing = resolve(ref, [a.answer for a in found if a.answerable], [*histories[row], info.text])
                if thing:
                    text = info.text.replace(ref.text, thing, 1)
                    read = self.analyze(text, histories[row])
                    infos[row] = dataclasses.replace(read, question=info.question, notes=(
                        *info.notes, f"read '{ref.text}' as '{thing}'"))
                continue
            if found[0].answerable:
                if wants_neighbourhood(info.text):
                    previous[row] = {self._sentence_at[(span.doc, span.start)] for span in found[0].answer_spans
                                     if (span.doc, span.start) in self._sentence_at}
                infos[row] = dataclasses.replace(info, earlier_answer=tuple((span.doc, span.start)
                                                                            for span in found[0].answer_spans))
        return infos, previous

    def _near_earlier(self, infos: list[QuestionInfo], queries: list[Query], hit_lists: list[list],
                      previous: list[set[int]], k: int, bars: list[float]) -> list[list]:
        """``hit_lists`` with, for a follow-up about what comes after its earlier answer (``previous``: that
        answer's sentence ids), the ``NEIGHBOUR_WINDOW`` sentences after it preferred by ``NEIGHBOUR_BONUS``
        among the ``NEIGHBOUR_CHUNKS`` best chunks (:func:`qa.followup.near`; ``infos`` say how). The preference
        never turns an answer into a refusal: when the passage it puts first is below the row's similarity bar
        (``bars``) and the best one was not, the order stays."""
        rows = [row for row, ids in enumerate(previous) if ids]
        if not rows:
            return hit_lists
        wider = self.retriever.search([queries[row] for row in rows], NEIGHBOUR_CHUNKS)
        hit_lists = list(hit_lists)
        for row, hits in zip(rows, wider):
            how = wants_neighbourhood(infos[row].text)
            ranked = near(hits, self.data.sentences, self.data.chunks, previous[row], how, NEIGHBOUR_WINDOW,
                          NEIGHBOUR_BONUS[how], self.retriever.pair_weight)[:k]
            best = hit_lists[row][0] if hit_lists[row] else None
            if ranked and best is not None and ranked[0].dense < bars[row] <= best.dense:
                logger.debug("follow-up: the passage after the earlier answer (similarity %.3f) is below the bar "
                             "%.2f; the best passage stays first", ranked[0].dense, bars[row])
                continue
            hit_lists[row] = ranked
        return hit_lists

    @property
    def _sentence_at(self) -> dict[tuple[str, int], int]:
        """Sentence ids by ``(doc, start)``, made on first use (only follow-ups need them)."""
        if self._sentence_table is None:
            self._sentence_table = {(s.doc, s.start): i for i, s in enumerate(self.data.sentences)}
        return self._sentence_table

    def _names_on_page(self, info: QuestionInfo, hits: list) -> QuestionInfo:
        """``info`` with the specific words (names, numbers: :func:`qa.specifics.specific_words`) the user typed
        that the best hit's document never uses added to its unknown names, in a corpus of several documents:
        a wiki mentions "GDP" somewhere, but a page that never does cannot answer a question about GDP."""
        if len(self.documents) < 2 or not hits:
            return info
        doc = self.data.sentences[hits[0].best_sentence].doc
        typed = set(specific_words(info.question))     # not a word the reader put in (an expansion of "IP")
        names = tuple(dict.fromkeys([*info.unknown_names, *(w for w in specific_words(info.text)
                                                            if w in typed and not self.retriever.mentions(doc, w))]))
        if names == info.unknown_names:
            return info
        return info.choose(dataclasses.replace(info.reading, unknown_names=names))

    def make_query(self, question: str, history: list[str] | None = None) -> Query:
        """The retrieval :class:`~qa.retrieval.Query` for one question (embeds it)."""
        return self._embed([self.analyze(question, history)])[1][0]

    def scope(self, doc: DocScope) -> tuple[str, ...] | None:
        """``doc`` checked against the corpus: a tuple of distinct ids in the order given, or None for every document.

        Args:
            doc: a document id (``engine.documents`` keys), a list of them, or None. An empty list is None.

        Raises:
            QuestionError: an id is not a document of the corpus (the message names it and a few valid ids),
                or ``doc`` is not a string or a list of strings.
        """
        if doc is None:
            return None
        ids = (doc,) if isinstance(doc, str) else doc
        if not isinstance(ids, (list, tuple)) or not all(isinstance(d, str) for d in ids):
            raise QuestionError(f"doc must be a document id or a list of them, got {type(doc).__name__}")
        unknown = [d for d in dict.fromkeys(ids) if d not in self.documents]
        if unknown:
            shown = ", ".join(repr(d[:80]) for d in unknown[:3]) + (f" and {len(unknown) - 3} more" if len(unknown) > 3 else "")
            valid = ", ".join(list(self.documents)[:SHOWN_DOCS]) or "none"
            more = f", ... ({len(self.documents):,} in all)" if len(self.documents) > SHOWN_DOCS else ""
            raise QuestionError(f"no document {shown} in the corpus (documents: {valid}{more})")
        return tuple(dict.fromkeys(ids)) or None

    def warm(self, doc: DocScope) -> None:
        """Make the first questions scoped to ``doc`` fast: in a corpus of several documents, embed the documents
        again now, as an index of each alone would (:mod:`qa.page_vectors`; 1.3 s for the article's 34 sentences and
        259 word windows at 104,155 sentences), instead of at their first scoped question. The embed page
        (``/embed?doc=``) calls it when it opens. Nothing to do for a corpus of one document, or a page of over
        ``settings.retrieval.page_texts`` texts.

        Args:
            doc: a document id, a list of them, or None (nothing to do).

        Raises:
            QuestionError: an id is not a document of the corpus.
        """
        scope = self.scope(doc)
        if scope:
            self.retriever.prepare_pages(scope, self.embedder)

    def ask(self, question: str, history: list[str] | None = None, top_k: int | None = None,
            id: str | None = None, doc: DocScope = None) -> Answer:
        """Answer one question.

        Args:
            question: the user's question (control characters are stripped, over 2,000 characters cut).
            history: earlier questions of the conversation, oldest first. Defaults to none.
            top_k: number of citations. Defaults to ``settings.top_k`` (3); at most ``settings.max_top_k`` (20).
            id: the answer's id. Defaults to a hash of the question and history.
            doc: the id of the document to answer from, or a list of ids (questions about "this article" are
                then about the scoped document, of several the best match's). Defaults to None: any
                document, the best match's being the one in focus.

        Returns:
            An :class:`Answer`; ``answerable`` is False when the article does not cover the question.

        Raises:
            QuestionError: the question is empty once cleaned, ``top_k`` is out of range, or ``doc`` names
                a document not in the corpus.
        """
        scope = self.scope(doc)
        info = self.analyze(question, history)   # raises for an empty question
        return self._answer([info], top_k, [id], [scope], [history or []])[0]

    def ask_many(self, questions: list[str], histories: list[list[str]] | None = None,
                 top_k: int | None = None, ids: list[str] | None = None,
                 docs: list[DocScope] | None = None) -> list[Answer | QuestionFailure]:
        """Answer many questions, embedding them all in one pass.

        Args:
            questions: the questions.
            histories: one history list per question (oldest first). Defaults to no history.
            top_k: citations per answer. Defaults to ``settings.top_k`` (3); at most ``settings.max_top_k`` (20).
            ids: one id per question. Defaults to hashes of question and history.
            docs: one scope per question, as ``doc`` of :meth:`ask` (an id, a list of ids, or None). Defaults
                to None: every question about any document.

        Returns:
            Per question, in order, its :class:`Answer` (``latency_ms`` is the batch time divided by the
            number of answers), or a :class:`QuestionFailure` for a question that cannot be asked (empty once
            cleaned, or scoped to a document not in the corpus).

        Raises:
            QuestionError: ``top_k`` is out of range, or the list lengths differ.
        """
        histories = histories if histories is not None else [[] for _ in questions]
        if len(histories) != len(questions) or any(x is not None and len(x) != len(questions) for x in (ids, docs)):
            raise QuestionError(f"got {len(questions)} questions but {len(histories)} histories"
                                + ("" if ids is None else f" and {len(ids)} ids")
                                + ("" if docs is None else f" and {len(docs)} docs"))
        ids = list(ids) if ids is not None else [None] * len(questions)
        docs = list(docs) if docs is not None else [None] * len(questions)
        results: list[Answer | QuestionFailure | None] = [None] * len(questions)
        infos, positions, scopes = [], [], []
        for position, (question, history) in enumerate(zip(questions, histories)):
            try:
                scope = self.scope(docs[position])
                infos.append(self.analyze(question, history))
                positions.append(position)
                scopes.append(scope)
            except QuestionError as exc:
                results[position] = QuestionFailure(ids[position], question, exc.reason)
        for position, answer in zip(positions, self._answer(infos, top_k, [ids[p] for p in positions], scopes,
                                                            [histories[p] or [] for p in positions])):
            results[position] = answer
        return results

    def _answer(self, infos: list[QuestionInfo], top_k: int | None, ids: list[str | None],
                docs: list[tuple[str, ...] | None] | None = None,
                histories: list[list[str]] | None = None) -> list[Answer]:
        """analyze -> embed -> retrieve -> compose, for questions already analysed."""
        started = time.perf_counter()
        top_k = self.settings.top_k if top_k is None else top_k
        if not isinstance(top_k, int) or not 1 <= top_k <= self.settings.max_top_k:
            raise QuestionError(f"top_k must be an integer from 1 to {self.settings.max_top_k}, got {top_k!r}")
        if not infos:
            return []
        histories = histories or [[] for _ in infos]
        docs = docs or [None] * len(infos)
        scopes = list(dict.fromkeys(d for d in docs if d))
        if self.retriever.pages is not None and len({doc for scope in scopes for doc in scope}) > PAGES_AT_ONCE:
            return self._answer_by_pages(infos, top_k, ids, docs, histories, scopes)
        with self.retriever.pinned_pages(scopes):   # held until answered, whatever other questions embed meanwhile
            return self._answer_held(infos, top_k, ids, docs, histories, scopes, started)

    def _answer_held(self, infos: list[QuestionInfo], top_k: int, ids: list[str | None],
                     docs: list[tuple[str, ...] | None], histories: list[list[str]], scopes: list[tuple[str, ...]],
                     started: float) -> list[Answer]:
        """:meth:`_answer` once the pages of ``scopes`` are kept held."""
        for scope in scopes:   # a page's bot scores its page as if indexed alone
            self.retriever.prepare_pages(scope, self.embedder)
        infos, previous = self._follow_earlier(infos, histories, docs)
        infos, queries = self._embed(infos, docs)
        queries = self._continue_documents(infos, queries, histories)
        hit_lists = self.retriever.search(queries, max(top_k, 3))
        # The similarity bar rises with the sentences searched: a scoped question searched its documents only.
        composers = [self.composer if not query.scope else
                     dataclasses.replace(self.composer, corpus_sentences=self.retriever.scope_size(query.scope))
                     for query in queries]
        hit_lists = self._near_earlier(infos, queries, hit_lists, previous, max(top_k, 3),
                                       [composer.similarity_bar for composer in composers])
        infos = [self._names_on_page(info, hits) for info, hits in zip(infos, hit_lists)]
        answers = [composer.compose(info, hits, self.passages, top_k=top_k, id=id)
                   for composer, info, hits, id in zip(composers, infos, hit_lists, ids)]
        for answer, query in zip(answers, queries):
            self._say_which_page(answer, query)
        elapsed = round((time.perf_counter() - started) * 1000 / len(answers), 2)
        for answer in answers:
            answer.latency_ms = elapsed
        return answers

    def _answer_by_pages(self, infos: list[QuestionInfo], top_k: int, ids: list[str | None],
                         docs: list[tuple[str, ...] | None], histories: list[list[str]],
                         scopes: list[tuple[str, ...]]) -> list[Answer]:
        """:meth:`_answer` for questions scoped to more pages than are embedded again at once: the questions of
        at most :data:`PAGES_AT_ONCE` pages at a time (each pass keeps its pages held, past the memory bound if need
        be, until its questions are answered), then the unscoped ones."""
        groups, pages = [[]], set()
        for scope in scopes:
            if groups[-1] and len(pages | set(scope)) > PAGES_AT_ONCE:
                groups.append([])
                pages = set()
            groups[-1].append(scope)
            pages |= set(scope)
        answers: list[Answer | None] = [None] * len(infos)
        for chosen in [set(group) for group in groups] + [None]:
            rows = [i for i, d in enumerate(docs) if (d in chosen if chosen is not None else not d)]
            if rows:
                for row, answer in zip(rows, self._answer([infos[i] for i in rows], top_k, [ids[i] for i in rows],
                                                          [docs[i] for i in rows], [histories[i] for i in rows])):
                    answers[row] = answer
        return answers

    def _say_which_page(self, answer: Answer, query: Query) -> None:
        """Note which page answered a question about "the article" (its headline, authors, conclusion) asked of
        several documents without choosing one: the best match stands in for the page the user has in mind."""
        among = len(query.scope) or len(self.docs)
        if among > 1 and answer.answerable and answer.citations and query.topics & self.retriever.topic_rules.keys():
            first = answer.citations[0]
            answer.notes.append(f"answered about '{first.title}' ({first.doc}), the closest match of "
                                f"{among} documents; name one document (doc) to ask about another")

    def reload(self) -> "Engine":
        """A new engine from the same corpus, index folder and model (rebuilding if the corpus changed).

        The current engine is untouched, so a server can keep answering with it when this fails.

        Raises:
            qa.corpus.CorpusError: the corpus is now missing or unreadable.
        """
        return Engine.load(corpus=self.corpus_dir, index=self.index_dir, model=self.embedder.name,
                           settings=self.settings)

    # -- facts for front ends -----------------------------------------------------------------

    def stats(self) -> dict:
        """Counts and model for health checks: ``{"documents", "sentences", "chunks", "model"}``."""
        return {"documents": len(self.docs), "sentences": len(self.data.sentences),
                "chunks": len(self.data.chunks), "model": self.embedder.name}
