"""Scoped questions over a small wiki of three documents (.txt and .md): the engine, the command line, batch files,
the JSON API, ``GET /api/docs``, the article view and ``/embed?doc=``, all with the real model and a real server.

Document ids are taken from ``engine.documents`` (by title), never written out, so the tests hold whatever the
corpus makes of a file name (a stem today, a relative path with its suffix tomorrow).
"""
from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from qa.batch import answer_file
from qa.question import QuestionError
from qa.web import RunningServer, WebSettings, create_app
from qa.web.render import Linker, answer_html
from qa.web.schema import MAX_DOC_ID_CHARS, MAX_DOC_IDS

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
ARTICLE_TITLE = "How Are US-China Cyber Relations Progressing?"
REEF_TITLE = "Coral Reefs Off Palawan Show Signs of Recovery"
HANDBOOK_TITLE = "Release Checklist of the Platform Team"


@pytest.fixture(scope="module")
def wiki_dirs(tmp_path_factory) -> tuple[Path, Path]:
    """A corpus of the article (.txt), a short news story (.txt) and a team handbook page (.md), and its index folder."""
    corpus = tmp_path_factory.mktemp("wiki-corpus")
    shutil.copy(ROOT / "corpus" / "us-china-cyber-relations.txt", corpus)
    shutil.copy(DATA / "coral-reef-recovery.txt", corpus)
    shutil.copy(DATA / "team-handbook.md", corpus)
    return corpus, tmp_path_factory.mktemp("wiki-index")


@pytest.fixture(scope="module")
def wiki(wiki_dirs):
    from qa import Engine

    return Engine.load(corpus=wiki_dirs[0], index=wiki_dirs[1])


@pytest.fixture(scope="module")
def ids(wiki) -> dict[str, str]:
    """``{"article", "reef", "handbook"}`` -> document id, found by title."""
    by_title = {doc.title: doc.id for doc in wiki.docs}
    return {"article": by_title[ARTICLE_TITLE], "reef": by_title[REEF_TITLE], "handbook": by_title[HANDBOOK_TITLE]}


def cited_docs(answer) -> set[str]:
    return {c.doc for c in answer.citations} | {s.doc for s in answer.answer_spans}


# -- engine -----------------------------------------------------------------------------------

def test_a_scoped_question_is_cited_only_from_its_document(wiki, ids):
    question = "What did the 2015 agreement bar?"   # the article answers it; the other two do not
    assert ids["article"] in cited_docs(wiki.ask(question))
    for name in ("reef", "handbook"):
        answer = wiki.ask(question, doc=ids[name], top_k=5)
        assert answer.citations and cited_docs(answer) == {ids[name]}, name
        assert not answer.answerable, name   # the scoped page does not say, so the bot says so
    inside = wiki.ask("When is the freeze announced?", doc=[ids["handbook"], ids["reef"]], top_k=5)
    assert inside.answerable and "two days before" in inside.answer
    assert cited_docs(inside) <= {ids["handbook"], ids["reef"]}


@pytest.mark.parametrize("name, author", [("reef", "Maria Santos"), ("handbook", "Priya Nair"),
                                          ("article", "Adam Greer")])
def test_this_article_means_the_scoped_document(wiki, ids, name, author):
    for question in ("Who wrote this?", "Who wrote this article?", "Who wrote this page?"):
        answer = wiki.ask(question, doc=ids[name])
        assert answer.answerable and author in answer.answer and cited_docs(answer) == {ids[name]}, question
    headline = wiki.ask("What is the headline?", doc=ids[name])
    assert headline.answer == wiki.documents[ids[name]].title and cited_docs(headline) == {ids[name]}


def test_of_several_scoped_documents_the_best_match_is_this_article(wiki, ids):
    answer = wiki.ask("Who wrote this page about the release freeze?", doc=[ids["reef"], ids["handbook"]])
    assert answer.answerable and "Priya Nair" in answer.answer and cited_docs(answer) == {ids["handbook"]}


def test_a_question_about_the_page_asked_of_several_says_which_page_answered(wiki, ids):
    unscoped = wiki.ask("Who wrote this page about the release freeze?")
    assert unscoped.answerable and "Priya Nair" in unscoped.answer
    assert any(HANDBOOK_TITLE in note and ids["handbook"] in note and "of 3 documents" in note
               for note in unscoped.notes), unscoped.notes
    two = wiki.ask("Who wrote this page about the release freeze?", doc=[ids["reef"], ids["handbook"]])
    assert any("of 2 documents" in note for note in two.notes), two.notes
    for answer in (wiki.ask("Who wrote this?", doc=ids["handbook"]),            # one page chosen
                   wiki.ask("When is the freeze announced?")):                  # not about the page itself
        assert not any("closest match" in note for note in answer.notes), answer.notes


@pytest.mark.parametrize("name, earlier, author", [
    ("reef", "Why are the reefs off Palawan recovering?", "Maria Santos"),
    ("handbook", "When is the freeze announced?", "Priya Nair"),
    ("article", "What did the 2015 agreement bar?", "Adam Greer")])
def test_a_follow_up_stays_with_the_document_of_the_previous_answer(wiki, ids, name, earlier, author):
    answer = wiki.ask("and who wrote it?", history=[earlier])
    assert answer.answerable and author in answer.answer and cited_docs(answer) == {ids[name]}


def test_a_follow_up_is_not_answered_from_another_document(wiki, ids):
    # Unscoped, "the greatest threat" is the coral reef story's words; the conversation is about the handbook.
    answer = wiki.ask("and what is the greatest threat?", history=["When is the freeze announced?"])
    assert answer.citations and cited_docs(answer) == {ids["handbook"]}
    fresh = wiki.ask("and what is the greatest threat?")
    assert ids["reef"] in cited_docs(fresh)


def test_a_name_only_another_page_mentions_does_not_make_a_question_answerable(wiki):
    # "Palawan" is in the corpus (the reef story), but the page that would answer never mentions it.
    answer = wiki.ask("What did Palawan agree with China about cyber theft?")
    assert not answer.answerable and "Palawan" in answer.answer
    assert wiki.ask("Why are the reefs off Palawan recovering?").answerable


def test_a_scoped_question_is_measured_against_its_own_documents(wiki, ids):
    sizes = {name: sum(s.doc == ids[name] for s in wiki.data.sentences) for name in ids}
    assert wiki.retriever.scope_size((ids["reef"],)) == sizes["reef"] < len(wiki.data.sentences)
    assert wiki.retriever.scope_size((ids["reef"], ids["handbook"])) == sizes["reef"] + sizes["handbook"]
    assert wiki.retriever.scope_size(()) == len(wiki.data.sentences)
    # BM25 shares are relative to the best sentence the question can be answered from, not the whole corpus's
    query = wiki.make_query("cyber theft agreement ban")
    scoped = dataclasses.replace(query, doc=ids["reef"])
    inside = wiki.retriever._scope_ids(scoped.scope)
    assert wiki.retriever.lexical_scores(scoped)[inside].max() == pytest.approx(1.0)
    assert wiki.retriever.lexical_scores(query)[inside].max() < 1.0


def test_a_question_about_a_page_part_looks_at_the_pages_that_have_it(tmp_path):
    """"Who wrote this?" over a wiki where one page has its authors' bios and another talks about writing."""
    from qa import Engine

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(DATA / "team-handbook.md", corpus)
    (corpus / "style.txt").write_text(
        "Writing Style\n\nWho wrote this page does not matter: anyone may edit what was written here.\n\n"
        "Write short sentences. Prefer plain words to jargon.\n", encoding="utf-8")
    engine = Engine.load(corpus=corpus, index=tmp_path / "index")
    answer = engine.ask("Who wrote this?")
    assert answer.answerable and "Priya Nair" in answer.answer


def test_eval_scores_the_document_of_the_first_citation_when_a_set_names_it(wiki, ids, tmp_path):
    from qa.evaluation import evaluate, load_eval_set

    rows = [{"id": "r1", "kind": "answerable", "question": "What did the fishing ban do for the reefs?",
             "gold": ["ban"], "docs": [ids["reef"]]},
            {"id": "r2", "kind": "answerable", "question": "What did the fishing ban do for the reefs?",
             "gold": ["ban"], "docs": [ids["handbook"], ids["article"]]},
            {"id": "r3", "kind": "answerable", "question": "What did the 2015 agreement bar?", "gold": ["barred"]}]
    path = tmp_path / "pages.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    items = load_eval_set(path)
    assert items[1].docs == (ids["handbook"], ids["article"]) and items[2].docs == ()
    result = evaluate(wiki, items)
    assert result["metrics"]["right_doc_rank1"] == 0.5            # r1 right, r2 wrong, r3 names no document
    assert [f["top_doc"] for f in result["failures"]] == [ids["reef"]]


def test_citations_carry_doc_and_title(wiki):
    answer = wiki.ask("What is the greatest threat?", top_k=5)
    assert len({c.doc for c in answer.citations}) > 1   # this question draws on two documents
    for citation in answer.to_dict()["citations"]:
        document = wiki.documents[citation["doc"]]
        assert citation["title"] == document.title
        assert document.text[citation["start"]:citation["end"]] == citation["text"]


def test_unknown_ids_are_named_with_a_few_valid_ones(wiki, ids, monkeypatch):
    with pytest.raises(QuestionError) as caught:
        wiki.ask("Who wrote this?", doc=[ids["reef"], "no/such.md", "nope"])
    message = str(caught.value)
    assert "'no/such.md'" in message and "'nope'" in message and ids["reef"] in message
    assert "\n" not in message
    monkeypatch.setattr("qa.engine.SHOWN_DOCS", 2)   # a wiki of thousands: the message names only the first few
    with pytest.raises(QuestionError) as caught:
        wiki.ask("Who wrote this?", doc=[f"missing-{n}" for n in range(6)])
    message = str(caught.value)
    assert "'missing-2' and 3 more" in message and "'missing-3'" not in message
    assert f"(documents: {wiki.docs[0].id}, {wiki.docs[1].id}, ... (3 in all))" in message
    with pytest.raises(QuestionError, match="doc must be a document id or a list"):
        wiki.ask("Who wrote this?", doc=[3])


def test_ask_many_scopes_each_question_and_fails_only_unknown_ids(wiki, ids):
    from qa.engine import QuestionFailure

    results = wiki.ask_many(["Who wrote this?"] * 4, docs=[ids["reef"], "nope", [ids["handbook"]], None])
    assert "Maria Santos" in results[0].answer and cited_docs(results[0]) == {ids["reef"]}
    assert isinstance(results[1], QuestionFailure) and "'nope'" in results[1].error
    assert "Priya Nair" in results[2].answer and cited_docs(results[2]) == {ids["handbook"]}
    assert results[3].answerable
    with pytest.raises(QuestionError, match="2 docs"):
        wiki.ask_many(["a?", "b?", "c?"], docs=[None, None])


# -- command line -----------------------------------------------------------------------------

def run_cli(wiki_dirs, *args):
    import os

    env = dict(os.environ, QA_CORPUS_DIR=str(wiki_dirs[0]), QA_INDEX_DIR=str(wiki_dirs[1]), PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "qa", *args], capture_output=True, text=True, env=env, timeout=300)


def test_cli_docs_lists_ids_and_titles(wiki, wiki_dirs, ids):
    result = run_cli(wiki_dirs, "docs")
    assert result.returncode == 0, result.stderr
    rows = [line.split("\t") for line in result.stdout.splitlines()]
    assert {row[0]: row[1] for row in rows} == wiki.titles
    listed = json.loads(run_cli(wiki_dirs, "docs", "--json", "--prefix", ids["reef"]).stdout)
    assert listed == {"documents": [{"id": ids["reef"], "title": REEF_TITLE}], "total": 1}


@pytest.mark.slow
def test_cli_ask_doc_scopes_and_an_unknown_id_is_one_line(wiki, wiki_dirs, ids):
    result = run_cli(wiki_dirs, "ask", "Who wrote this?", "--doc", ids["reef"], "--json")
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert "Maria Santos" in answer["answer"] and {c["doc"] for c in answer["citations"]} == {ids["reef"]}
    both = run_cli(wiki_dirs, "ask", "Who wrote this page about the release freeze?", "-d", ids["reef"],
                   "-d", ids["handbook"])
    assert both.returncode == 0 and "Priya Nair" in both.stdout
    wrong = run_cli(wiki_dirs, "ask", "Who wrote this?", "--doc", "nope")
    assert wrong.returncode == 2 and wrong.stdout == ""
    assert wrong.stderr.strip().count("\n") == 0 and "'nope'" in wrong.stderr and ids["reef"] in wrong.stderr
    assert "Traceback" not in wrong.stderr
    usage = run_cli(wiki_dirs, "ask", "--help")
    assert "--doc ID" in usage.stdout and "python -m qa ask" in usage.stdout and "--doc" in usage.stdout.split("examples:")[1]


# -- batch ------------------------------------------------------------------------------------

def test_batch_doc_column_and_key_scope_rows_and_unknown_ids_are_row_errors(wiki, ids, tmp_path):
    csv_file = tmp_path / "questions.csv"
    csv_file.write_text("question,doc\n"
                        f"Who wrote this?,{ids['reef']}\n"
                        "Who wrote this?,nope\n"
                        f"Who wrote this page about the release freeze?,{ids['reef']} || {ids['handbook']}\n"
                        "What did the 2015 agreement bar?,\n", encoding="utf-8")
    summary = answer_file(wiki, csv_file, tmp_path / "csv.jsonl")
    rows = [json.loads(line) for line in (tmp_path / "csv.jsonl").read_text(encoding="utf-8").splitlines()]
    assert summary.errors == 1 and len(rows) == 4
    assert "Maria Santos" in rows[0]["answer"] and {c["doc"] for c in rows[0]["citations"]} == {ids["reef"]}
    assert "'nope'" in rows[1]["error"] and rows[1]["error"].startswith("line 3 (row 2)")
    assert "Priya Nair" in rows[2]["answer"]
    assert rows[3]["answerable"] and ids["article"] in {c["doc"] for c in rows[3]["citations"]}
    assert rows[0]["doc"] == ids["reef"]   # carried through: the answers say which scope was asked

    jsonl = tmp_path / "questions.jsonl"
    jsonl.write_text("\n".join(json.dumps(item) for item in [
        {"question": "Who wrote this?", "doc": [ids["handbook"]]},
        {"question": "Who wrote this?", "doc": 5},
        {"question": "Who wrote this?", "doc": ["nope", ids["reef"]]},
        {"question": "Who wrote this?", "doc": ids["reef"]}]) + "\n", encoding="utf-8")
    answer_file(wiki, jsonl, tmp_path / "jsonl.jsonl")
    rows = [json.loads(line) for line in (tmp_path / "jsonl.jsonl").read_text(encoding="utf-8").splitlines()]
    assert "Priya Nair" in rows[0]["answer"]
    assert rows[1]["error"] == 'line 2: "doc" must be a document id or a list of them (strings), got a number'
    assert "'nope'" in rows[2]["error"] and "answer" not in rows[2]
    assert "Maria Santos" in rows[3]["answer"]


def test_batch_doc_option_scopes_rows_without_their_own(wiki, ids, tmp_path):
    questions = tmp_path / "questions.jsonl"
    questions.write_text(json.dumps({"question": "Who wrote this?"}) + "\n"
                         + json.dumps({"question": "Who wrote this?", "doc": ids["reef"]}) + "\n", encoding="utf-8")
    answer_file(wiki, questions, tmp_path / "answers.md", doc=[ids["handbook"]])
    report = (tmp_path / "answers.md").read_text(encoding="utf-8")
    first, second = report.split("## 2.")
    assert "Priya Nair" in first and "Maria Santos" in second


@pytest.mark.slow
def test_cli_batch_with_an_unknown_doc_stops_before_answering(wiki, wiki_dirs, tmp_path):
    questions = tmp_path / "q.txt"
    questions.write_text("Who wrote this?\n", encoding="utf-8")
    result = run_cli(wiki_dirs, "batch", str(questions), "--out", str(tmp_path / "a.jsonl"), "--doc", "nope")
    assert result.returncode == 2 and "--doc" in result.stderr and "'nope'" in result.stderr
    assert not (tmp_path / "a.jsonl").exists()


# -- web --------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def client(wiki):
    with RunningServer(create_app(wiki, WebSettings())) as server, \
            httpx.Client(base_url=server.url, timeout=30) as http:
        yield http


def test_api_ask_doc_as_string_list_and_repeated_parameter(client, ids):
    one = client.get("/api/ask", params={"q": "Who wrote this?", "doc": ids["reef"]})
    assert one.status_code == 200 and "Maria Santos" in one.json()["answer"]
    assert {c["doc"] for c in one.json()["citations"]} == {ids["reef"]}
    assert all(c["title"] == REEF_TITLE for c in one.json()["citations"])
    repeated = client.get("/api/ask", params=[("q", "Who wrote this page about the release freeze?"),
                                              ("doc", ids["reef"]), ("doc", ids["handbook"])])
    assert repeated.status_code == 200 and "Priya Nair" in repeated.json()["answer"]
    posted = client.post("/api/ask", json={"question": "Who wrote this?", "doc": [ids["handbook"]]})
    assert posted.status_code == 200 and "Priya Nair" in posted.json()["answer"]
    string = client.post("/api/ask", json={"question": "What did the 2015 agreement bar?", "doc": ids["handbook"]})
    assert string.status_code == 200 and {c["doc"] for c in string.json()["citations"]} == {ids["handbook"]}
    unscoped = client.post("/api/ask", json={"question": "What did the 2015 agreement bar?", "doc": None})
    assert unscoped.status_code == 200 and unscoped.json()["answerable"]


@pytest.mark.parametrize("body, status, match", [
    ({"doc": "nope"}, 400, "no document 'nope' in the corpus"),
    ({"doc": ["x"] * (MAX_DOC_IDS + 1)}, 400, f"doc has {MAX_DOC_IDS + 1} document ids; send at most {MAX_DOC_IDS}"),
    ({"doc": "a" * (MAX_DOC_ID_CHARS + 1)}, 400, f"the limit is {MAX_DOC_ID_CHARS}"),
    ({"doc": 7}, 422, "doc"),
    ({"doc": [["nested"]]}, 422, "doc"),
])
def test_api_refuses_bad_doc_scopes_with_json(client, body, status, match):
    for response in (client.post("/api/ask", json={"question": "Who wrote this?", **body}),
                     client.post("/embed/ask", json={"question": "Who wrote this?", **body})):
        assert response.status_code == status, response.text
        assert match in response.json()["error"] and response.json()["status"] == status
    if status == 400 and isinstance(body["doc"], str):
        got = client.get("/api/ask", params={"q": "Who wrote this?", "doc": body["doc"]})
        assert got.status_code == 400 and match in got.json()["error"]


def test_api_docs_lists_every_document_a_page_at_a_time(client, wiki):
    everything = client.get("/api/docs").json()
    assert everything["total"] == len(wiki.docs) and everything["next_offset"] is None
    assert [(d["id"], d["title"]) for d in everything["documents"]] == [(d.id, d.title) for d in wiki.docs]
    assert sum(d["sentences"] for d in everything["documents"]) == len(wiki.data.sentences)
    seen, offset = [], 0
    for _ in range(10):   # bounded: three documents, one per page
        page = client.get("/api/docs", params={"limit": 1, "offset": offset}).json()
        seen += [d["id"] for d in page["documents"]]
        if page["next_offset"] is None:
            break
        offset = page["next_offset"]
    assert seen == [d.id for d in wiki.docs]
    first = wiki.docs[0].id
    prefixed = client.get("/api/docs", params={"prefix": first}).json()
    assert first in [d["id"] for d in prefixed["documents"]] and prefixed["total"] <= len(wiki.docs)
    assert client.get("/api/docs", params={"prefix": "zz-no-such"}).json()["total"] == 0
    for params in ({"limit": 0}, {"limit": 1001}, {"offset": -1}, {"prefix": "p" * (MAX_DOC_ID_CHARS + 1)}):
        bad = client.get("/api/docs", params=params)
        assert bad.status_code == 422 and bad.json()["status"] == 422, params
    assert client.post("/api/docs").status_code == 405


def test_openapi_describes_doc_and_the_docs_route(client):
    schema = client.get("/api/openapi.json").json()
    parameters = {p["name"]: p for p in schema["paths"]["/api/ask"]["get"]["parameters"]}
    assert parameters["doc"]["schema"]["maxItems"] == MAX_DOC_IDS
    body = schema["paths"]["/api/ask"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert "doc" in body["properties"]
    docs = schema["paths"]["/api/docs"]["get"]
    assert {p["name"] for p in docs["parameters"]} == {"offset", "limit", "prefix"}
    assert "200" in docs["responses"] and "422" in docs["responses"]


def test_article_view_takes_ids_with_slashes(client, wiki):
    for doc in wiki.docs:   # every id, escaped as the links escape it (after the corpus change ids hold "/")
        page = client.get(f"/article/{quote(doc.id, safe='')}")
        assert page.status_code == 200 and doc.title.replace("'", "&#x27;") in page.text
    missing = client.get("/article/" + quote("folder/sub/page.md", safe=""))
    assert missing.status_code == 404 and "folder/sub/page.md" in missing.text   # the whole id reached the route
    hostile = client.get("/article/" + quote("<script>alert(1)</script>", safe=""))
    assert hostile.status_code == 404 and "<script>alert" not in hostile.text


def test_embed_doc_scopes_the_page_and_unknown_ids_get_a_404_page(client, ids):
    page = client.get("/embed", params={"doc": ids["reef"]})
    assert page.status_code == 200
    assert f"Ask: {REEF_TITLE}" in page.text and "Ask a question about this page" in page.text
    config = json.loads(page.text.split('id="qa-config">')[1].split("</script>")[0])
    assert config["doc"] == ids["reef"]
    assert "doc: config.doc" in page.text   # the page sends its scope with each question
    answer = client.post("/embed/ask", json={"question": "Who wrote this?", "doc": config["doc"]}).json()
    assert "Maria Santos" in answer["html"] and {c["doc"] for c in answer["answer"]["citations"]} == {ids["reef"]}
    missing = client.get("/embed", params={"doc": "nope<b>"})
    assert missing.status_code == 404 and "No such document" in missing.text
    assert "nope&lt;b&gt;" in missing.text and "<b>" not in missing.text
    assert REEF_TITLE in missing.text   # and it lists documents that exist
    anything = client.get("/embed")
    assert anything.status_code == 200 and "Ask: all 3 documents" in anything.text
    assert json.loads(anything.text.split('id="qa-config">')[1].split("</script>")[0])["doc"] is None


def test_the_chat_page_of_several_documents_names_none_of_them_as_the_article(client, wiki):
    config = client.get("/config").json()
    assert config["title"] == "Ask: all 3 documents"
    shown = json.dumps(config)
    assert "<h1>All 3 documents</h1>" in shown and "Ask questions about the documents" in shown
    assert "Ask a question about the documents and press Enter" in shown
    assert "Your question about the documents" in shown and "about the article" not in shown
    assert f"<h1>{wiki.docs[0].title}</h1>" not in shown


def test_the_reply_names_the_document_beside_each_source_only_when_several_are_cited(wiki, ids):
    linker = Linker("", wiki.docs[0].id)
    several = wiki.ask("What is the greatest threat?", top_k=5)
    assert len({c.doc for c in several.citations}) > 1
    reply = answer_html(several, linker)
    assert reply.count('class="qa-doc"') == len(several.citations)
    for citation in several.citations:
        assert f'<span class="qa-doc">{citation.title}</span>' in reply.replace("&#x27;", "'")
    single = answer_html(wiki.ask("Who wrote this?", doc=ids["reef"]), linker)
    assert 'class="qa-doc"' not in single


@pytest.mark.slow
@pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="needs Debian's chromium at /usr/bin/chromium")
def test_scoped_embed_in_a_real_browser_answers_from_its_page(wiki, ids, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1"]
    outside: list[str] = []
    with RunningServer(create_app(wiki, WebSettings())) as server, sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=args)
        try:
            context = browser.new_context(viewport={"width": 390, "height": 844})
            context.route("**/*", lambda route: route.continue_() if route.request.url.startswith("http://127.0.0.1")
                          else (outside.append(route.request.url), route.abort()))
            page = context.new_page()
            page.goto(f"{server.url}embed?doc={quote(ids['handbook'], safe='')}")
            expect(page.locator("h1")).to_contain_text(HANDBOOK_TITLE)
            page.locator("#qa-input").fill("Who wrote this?")
            page.locator("#qa-input").press("Enter")
            reply = page.locator(".qa-msg.qa-bot").last
            expect(reply).to_contain_text("Priya Nair")
            hrefs = reply.locator("a.qa-cite-link").evaluate_all("links => links.map(a => a.href)")
            assert hrefs and all(quote(ids["handbook"], safe="") in h or h.split("#")[0].endswith("/article")
                                 for h in hrefs)
            page.screenshot(path=str(tmp_path / "embed-scoped-phone.png"))
        finally:
            browser.close()
    assert outside == []
