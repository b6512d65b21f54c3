"""Evaluation: score the engine on a JSON Lines set of questions with verbatim gold fragments."""
from __future__ import annotations

import json
import statistics
from dataclasses import dataclass
from pathlib import Path

#: Item kinds: questions with a gold answer, and the two kinds the engine must decline.
ANSWERED_KINDS = ("answerable", "followup")
ABSTAIN_KINDS = ("off_topic", "near_topic")
KINDS = ANSWERED_KINDS + ABSTAIN_KINDS


#: The product's targets: (metric, comparison, value). Shares are 0..1; the citation length is in characters.
TARGETS = {
    "answer_correct": (">=", 0.90), "rank1": (">=", 0.90), "top3": (">=", 0.98), "followup_rank1": (">=", 0.85),
    "answer_rate": (">=", 0.95), "off_topic_abstained": (">=", 1.0), "near_topic_abstained": (">=", 0.75),
    "median_top_citation_chars": ("<=", 400),
}


def meets_target(name: str, value) -> bool | None:
    """Whether ``value`` of metric ``name`` meets :data:`TARGETS` (None when there is no target or no value)."""
    if name not in TARGETS or value is None:
        return None
    op, target = TARGETS[name]
    return value >= target if op == ">=" else value <= target


class EvalSetError(ValueError):
    """The evaluation file cannot be read or an item is malformed."""


@dataclass(frozen=True)
class EvalItem:
    """One question: ``gold`` lists verbatim fragments, any of which answers it (empty for abstain kinds);
    ``docs`` the ids of the documents that answer it, when the set names them (a corpus of many pages)."""

    id: str
    kind: str
    question: str
    history: list[str]
    gold: list[str]
    docs: tuple[str, ...] = ()


def load_eval_set(path: Path) -> list[EvalItem]:
    """Read an evaluation set (one JSON object per line with id, kind, question, history, gold, and
    optionally docs: the ids of the documents that answer it).

    Raises:
        EvalSetError: unreadable file, bad JSON, unknown kind, or an answerable item without gold.
    """
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise EvalSetError(f"cannot read evaluation set {path}: {exc}") from exc
    items = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            item = EvalItem(str(raw["id"]), raw["kind"], raw["question"], list(raw.get("history", [])),
                            list(raw.get("gold", [])), tuple(raw.get("docs", ())))
        except (ValueError, KeyError, TypeError) as exc:
            raise EvalSetError(f"{path} line {number}: not an evaluation item ({exc})") from exc
        if item.kind not in KINDS:
            raise EvalSetError(f"{path} line {number}: kind {item.kind!r} is not one of {', '.join(KINDS)}")
        if item.kind in ANSWERED_KINDS and not item.gold:
            raise EvalSetError(f"{path} line {number}: a {item.kind} item needs gold fragments")
        items.append(item)
    return items


def eval_sets(folder: Path, first: str | None = None) -> list[Path]:
    """Every evaluation set in ``folder`` (``*.jsonl``) by name, the one named ``first`` (e.g. the
    development set) before the others. Defaults to none first."""
    return sorted(Path(folder).glob("*.jsonl"), key=lambda p: (p.name != first, p.name))


@dataclass(frozen=True)
class _Unanswered:
    answerable: bool = False
    answer: str = ""
    citations: tuple = ()


def _share(flags: list[bool]) -> float | None:
    return round(sum(flags) / len(flags), 4) if flags else None


def evaluate(engine, items: list[EvalItem], top_k: int | None = None) -> dict:
    """Ask every item and score the answers (``top_k`` citations each; defaults to the engine's).

    A question the engine cannot ask (empty) counts as answered with nothing.

    Returns:
        ``{"metrics": {...}, "failures": [...]}``. Metrics (shares 0..1, ``None`` when no item
        of that kind): ``answer_correct`` (a gold fragment is in the answer; answerable and
        follow-up items), ``rank1``/``top3`` (a gold fragment is in the first / first three
        citations), ``followup_rank1``, ``answer_rate``, ``off_topic_abstained``,
        ``near_topic_abstained``, ``median_top_citation_chars``, ``right_doc_rank1`` (the first citation
        is from one of the item's ``docs``; items that name them), plus item counts.
        ``failures`` lists the items that missed, with what came back.
    """
    answers = engine.ask_many([i.question for i in items], [i.history for i in items], top_k=top_k)
    correct, rank1, top3, answered, followup_rank1, right_doc = [], [], [], [], [], []
    abstained: dict[str, list[bool]] = {kind: [] for kind in ABSTAIN_KINDS}
    lengths, failures = [], []
    for item, answer in zip(items, answers):
        if not hasattr(answer, "answerable"):   # a QuestionFailure: nothing answered
            answer = _Unanswered()
        texts = [c.text for c in answer.citations]
        if item.kind in ANSWERED_KINDS:
            ok = any(g in answer.answer for g in item.gold)
            r1 = bool(texts) and any(g in texts[0] for g in item.gold)
            t3 = any(g in t for t in texts[:3] for g in item.gold)
            correct.append(ok)
            rank1.append(r1)
            top3.append(t3)
            answered.append(answer.answerable)
            if item.kind == "followup":
                followup_rank1.append(r1)
            doc_ok = not item.docs or (bool(answer.citations) and answer.citations[0].doc in item.docs)
            if item.docs:
                right_doc.append(doc_ok)
            if answer.answerable and texts:
                lengths.append(len(texts[0]))
            if not (ok and r1 and answer.answerable and doc_ok):
                failures.append({"id": item.id, "kind": item.kind, "question": item.question,
                                 "answerable": answer.answerable, "answer": answer.answer,
                                 "top": texts[0] if texts else None, "gold": item.gold,
                                 "top_doc": answer.citations[0].doc if answer.citations else None})
        else:
            abstained[item.kind].append(not answer.answerable)
            if answer.answerable:
                failures.append({"id": item.id, "kind": item.kind, "question": item.question,
                                 "answerable": True, "answer": answer.answer})
    metrics = {
        "answer_correct": _share(correct),
        "rank1": _share(rank1),
        "top3": _share(top3),
        "followup_rank1": _share(followup_rank1),
        "answer_rate": _share(answered),
        "off_topic_abstained": _share(abstained["off_topic"]),
        "near_topic_abstained": _share(abstained["near_topic"]),
        "median_top_citation_chars": statistics.median(lengths) if lengths else None,
        "right_doc_rank1": _share(right_doc),
        "items": len(items),
        "answerable_items": len(correct),
        "followup_items": len(followup_rank1),
        "off_topic_items": len(abstained["off_topic"]),
        "near_topic_items": len(abstained["near_topic"]),
    }
    return {"metrics": metrics, "failures": failures}
