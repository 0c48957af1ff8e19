"""Dashboard pages rendered against a fake ``/v1`` API: what people see, what the API gets."""

import html
import re
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from services.gateway.dashboard import mount_dashboard
from tests.unit.dashboard.fake_v1 import CALLER_KEY_ID, FakeV1, job

pytestmark = pytest.mark.unit
KEY = "tl_abcd1234_secretsecretsecretsecret"  # well formed: its id is CALLER_KEY_ID


@pytest.fixture
def fake() -> FakeV1:
    return FakeV1()


@pytest.fixture
async def browser(fake: FakeV1) -> AsyncIterator[httpx.AsyncClient]:
    """A signed-in visitor of a dashboard whose ``/v1`` is the fake."""
    v1 = httpx.AsyncClient(transport=httpx.ASGITransport(app=fake.app()), base_url="http://v1")
    site = FastAPI()
    mount_dashboard(site, v1)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=site), base_url="http://dash", cookies={}
    ) as client:
        client.cookies.set("tuneloop_key", KEY)
        yield client
    await v1.aclose()


async def test_a_visitor_without_a_key_is_sent_to_sign_in(browser: httpx.AsyncClient) -> None:
    browser.cookies.clear()
    response = await browser.get("/jobs?status=active")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Fjobs%3Fstatus%3Dactive"
    form = await browser.get("/login?next=/jobs")
    assert 'type="password"' in form.text
    assert '<label for="api_key">' in form.text


async def test_signing_in_keeps_the_key_in_a_strict_httponly_cookie(
    browser: httpx.AsyncClient, fake: FakeV1
) -> None:
    browser.cookies.clear()
    bad = await browser.post("/login", data={"api_key": "hello", "next": "/"})
    assert bad.status_code == 400
    assert "does not look like a tuneloop API key" in bad.text
    good = await browser.post("/login", data={"api_key": KEY, "next": "//evil.example/x"})
    assert good.status_code == 303
    assert good.headers["location"] == "/"  # never off-site
    cookie = good.headers["set-cookie"]
    assert f"tuneloop_key={KEY}" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    signed_out = await browser.post("/logout")
    assert 'tuneloop_key=""' in signed_out.headers["set-cookie"]


async def test_a_refused_key_cannot_sign_in_and_a_revoked_one_is_sent_back(
    browser: httpx.AsyncClient, fake: FakeV1
) -> None:
    fake.refuse_key = True
    refused = await browser.post("/login", data={"api_key": KEY, "next": "/"})
    assert refused.status_code == 400
    assert "the API key is revoked" in refused.text
    page = await browser.get("/models")
    assert page.status_code == 303
    assert "reason=Your%20API%20key%20was%20not%20accepted" in page.headers["location"]


async def test_overview_cards_come_from_the_api_with_the_users_key(
    browser: httpx.AsyncClient, fake: FakeV1
) -> None:
    page = await browser.get("/")
    assert page.status_code == 200
    text = page.text
    assert 'data-card="gold-stars">3<' in text
    assert 'data-card="active-jobs">1<' in text
    assert 'data-card="deployed-models">1<' in text
    assert 'data-card="win-rate">100.0 %<' in text
    assert "A/B test bot-v2-vs-v1 started on support-bot" in text
    assert "support-bot v1 deployed to production: first" in text


async def test_a_service_down_leaves_the_rest_of_the_overview(
    browser: httpx.AsyncClient, fake: FakeV1
) -> None:
    fake.down = {"/v1/examples"}
    page = await browser.get("/")
    assert page.status_code == 200
    assert 'data-card="gold-stars">unavailable<' in page.text
    assert 'data-card="active-jobs">1<' in page.text


async def test_an_api_error_is_a_page_saying_what_to_do(browser: httpx.AsyncClient) -> None:
    page = await browser.get("/jobs/missing")
    assert page.status_code == 404
    assert "no fine-tuning job &#39;missing&#39;" in page.text
    assert "What to do:" in page.text
    assert "Go back to the list" in page.text


async def test_upload_shows_each_refused_line(browser: httpx.AsyncClient, fake: FakeV1) -> None:
    files = {"file": ("rows.jsonl", b'{"messages": []}\n')}
    page = await browser.post("/datasets/upload", files=files, data={"mode": "lenient"})
    assert page.status_code == 200
    assert "2 row(s) stored, 1 refused" in page.text
    assert "<td>3</td>" in page.text
    assert "the last message must be the assistant" in page.text
    [(_, _, params, body)] = [c for c in fake.calls if c[1] == "/v1/datasets/uploads"]
    assert params == {"mode": "lenient", "format": "auto"}
    assert b'{"messages": []}' in body

    fake.upload_error = {
        "code": "invalid_rows",
        "message": "1 row(s) of the openai-chat file are invalid; nothing was stored",
        "errors": [{"line": 7, "field": "messages.0.role", "code": "r", "message": "bad role"}],
        "total_errors": 1,
    }
    strict = await browser.post("/datasets/upload", files=files, data={"mode": "strict"})
    assert strict.status_code == 422
    assert "Nothing was stored" in strict.text
    assert "<td>7</td>" in strict.text
    assert "bad role" in strict.text


async def test_jobs_filter_and_show_progress(browser: httpx.AsyncClient, fake: FakeV1) -> None:
    active = await browser.get("/jobs?status=active")
    assert "ftjob-2" in active.text
    assert "ftjob-1" not in active.text
    assert '<progress max="100" value="50"' in active.text
    finished = await browser.get("/jobs?status=succeeded")
    assert "ftjob-1" in finished.text
    assert "ftjob-2" not in finished.text
    everything = await browser.get("/jobs")
    assert "ftjob-1" in everything.text
    assert "ftjob-2" in everything.text
    assert fake.job_queries == [["validating_files", "queued", "running"], ["succeeded"], None]


async def test_the_jobs_page_pages_through_the_filtered_jobs(
    browser: httpx.AsyncClient, fake: FakeV1
) -> None:
    fake.jobs = [job(f"ftjob-{n:03d}", "failed") for n in range(60, 0, -1)]
    fake.jobs.insert(3, job("ftjob-run", "running"))
    first = await browser.get("/jobs?status=failed")
    assert "ftjob-060" in first.text
    assert "ftjob-036" in first.text
    assert "ftjob-035" not in first.text
    assert "ftjob-run" not in first.text
    assert 'href="/jobs?status=failed&amp;after=ftjob-036"' in first.text
    second = await browser.get("/jobs?status=failed&after=ftjob-036")
    assert "ftjob-035" in second.text
    assert "ftjob-036" not in second.text
    third = await browser.get("/jobs?status=failed&after=ftjob-011")
    assert "ftjob-001" in third.text
    assert "after=" not in third.text.split("Newest jobs")[1]
    assert fake.job_queries == [["failed"]] * 3


async def test_the_jobs_page_filters_by_owner(browser: httpx.AsyncClient, fake: FakeV1) -> None:
    fake.jobs = [
        job("ftjob-mine", "running", owner=CALLER_KEY_ID),
        job("ftjob-theirs", "failed", owner="k_other"),
        job("ftjob-auto", "succeeded"),
    ]
    everything = await browser.get("/jobs")
    assert all(j in everything.text for j in ("ftjob-mine", "ftjob-theirs", "ftjob-auto"))
    assert 'href="/jobs?status=all&amp;owner=k_other"' in everything.text
    mine = await browser.get("/jobs?owner=me")
    assert "ftjob-mine" in mine.text
    assert "ftjob-theirs" not in mine.text
    assert '<option value="me" selected>' in mine.text
    theirs = await browser.get("/jobs?status=failed&owner=k_other")
    assert "ftjob-theirs" in theirs.text
    assert "ftjob-mine" not in theirs.text
    assert '<option value="k_other" selected>ci pipeline</option>' in theirs.text
    nobody = await browser.get("/jobs?owner=k_nobody")
    assert "No job started by key k_nobody" in nobody.text
    assert fake.owner_queries == [None, "me", "k_other", "k_nobody"]


def started_by(page: str) -> list[str]:
    """The "Started by" column, as read."""
    cells = re.findall(r'title="Jobs of API key [^"]+">([^<]+)</a>', page)
    return [html.unescape(cell) for cell in cells]


async def test_an_admin_reads_who_started_each_job_by_key_name(
    browser: httpx.AsyncClient, fake: FakeV1
) -> None:
    fake.jobs = [
        job("ftjob-mine", "running", owner=CALLER_KEY_ID),
        job("ftjob-theirs", "failed", owner="k_other"),
        job("ftjob-old", "failed", owner="k_gone"),
        job("ftjob-lost", "failed", owner="k_deleted"),
    ]
    page = (await browser.get("/jobs")).text
    assert started_by(page) == [
        "admin laptop (you)",
        "ci pipeline",
        "old notebook (revoked)",
        "key k_deleted",
    ]
    assert ">key k_other<" not in page
    select = page.split('<select id="owner"')[1].split("</select>")[0]
    options = re.findall(r'<option value="([^"]*)"[^>]*>([^<]+)</option>', select)
    assert options[:2] == [("", "anyone"), ("me", "me (this API key)")]
    # the tenant's other keys by name; not the caller's own (that is "me"), nor another tenant's
    assert options[2:] == [("k_other", "ci pipeline"), ("k_gone", "old notebook (revoked)")]
    picked = (await browser.get(f"/jobs?owner={CALLER_KEY_ID}")).text
    assert f'<option value="{CALLER_KEY_ID}" selected>admin laptop (you)</option>' in picked


async def test_without_the_admin_scope_jobs_show_key_ids_and_the_callers_name(
    browser: httpx.AsyncClient, fake: FakeV1
) -> None:
    fake.keys = None  # not an admin's key: GET /v1/keys would answer 403
    fake.caller_name = "reporting laptop"
    fake.jobs = [
        job("ftjob-mine", "running", owner=CALLER_KEY_ID),
        job("ftjob-theirs", "failed", owner="k_other"),
    ]
    listed = await browser.get("/jobs")
    assert listed.status_code == 200, listed.text
    assert started_by(listed.text) == ["reporting laptop (you)", "key k_other"]
    assert "ci pipeline" not in listed.text
    theirs = await browser.get("/jobs?owner=k_other")
    assert '<option value="k_other" selected>key k_other</option>' in theirs.text
    asked = [p for m, p, *_ in fake.calls if p in ("/v1/me", "/v1/keys")]
    assert asked == ["/v1/me", "/v1/me"]  # never a request bound to be refused


async def test_the_owner_filter_is_kept_across_pages(
    browser: httpx.AsyncClient, fake: FakeV1
) -> None:
    fake.jobs = [job(f"ftjob-{n:03d}", "failed", owner=CALLER_KEY_ID) for n in range(30, 0, -1)]
    first = await browser.get("/jobs?owner=me")
    assert 'href="/jobs?status=all&amp;owner=me&amp;after=ftjob-006"' in first.text
    second = await browser.get("/jobs?owner=me&after=ftjob-006")
    assert "ftjob-005" in second.text
    assert 'href="/jobs?status=all&amp;owner=me">Newest jobs' in second.text
    assert fake.owner_queries == ["me", "me"]


async def test_an_unknown_job_status_is_explained(browser: httpx.AsyncClient) -> None:
    page = await browser.get("/jobs?status=done")
    assert page.status_code == 400
    assert "no job status &#39;done&#39;" in page.text


async def test_a_running_job_page_refreshes_its_progress_and_loss_curve(
    browser: httpx.AsyncClient, fake: FakeV1
) -> None:
    page = await browser.get("/jobs/ftjob-2")
    assert 'data-live-url="/jobs/ftjob-2/live"' in page.text
    assert 'data-live-stream="/jobs/ftjob-2/stream"' in page.text
    assert "<polyline" in page.text
    live = (await browser.get("/jobs/ftjob-2/live")).json()
    assert live["done"] is False
    assert 'value="50"' in live["fragments"]["progress"]
    assert 'data-series="training loss"' in live["fragments"]["chart"]
    assert "Step 10/20" in live["fragments"]["events"]
    cancelled = await browser.post("/jobs/ftjob-2/cancel")
    assert cancelled.status_code == 303
    assert ("POST", "/v1/fine_tuning/jobs/ftjob-2/cancel") in [(m, p) for m, p, *_ in fake.calls]


async def test_the_experiment_verdict_reads_in_words_with_intervals(
    browser: httpx.AsyncClient,
) -> None:
    page = await browser.get("/experiments/exp_1")
    assert page.status_code == 200
    assert "The new version is better: promote it." in page.text
    assert 'data-verdict="treatment_wins"' in page.text
    assert page.text.count('class="interval"') == 3  # two arms, one difference
    assert "<td>0.2</td><td>0.076 to 0.324</td>" in page.text  # 8 of 40, normal 95 % interval
    assert "data-live-stream" not in page.text  # decided: nothing more to follow
    assert 'data-fragment="verdict"' in page.text


async def test_a_running_experiment_page_follows_its_events(
    browser: httpx.AsyncClient, fake: FakeV1
) -> None:
    fake.evaluated = False
    page = await browser.get("/experiments/exp_1")
    assert page.status_code == 200
    assert 'data-live-stream="/experiments/exp_1/stream" data-live-page' in page.text
    assert 'data-verdict="pending"' in page.text
    assert 'data-fragment="stats"' in page.text


async def test_promote_deploys_the_winner_with_the_note_and_stops_the_test(
    browser: httpx.AsyncClient, fake: FakeV1
) -> None:
    response = await browser.post("/experiments/exp_1/promote", data={"note": "clear winner"})
    assert response.status_code == 303
    [deployed] = fake.bodies("POST", "/v1/registry/models/support-bot/deployments")
    assert deployed["version"] == 2
    assert deployed["alias"] == "production"
    assert deployed["notes"] == "clear winner"
    assert deployed["justification"].startswith("new beats current")
    assert fake.bodies("POST", "/v1/experiments/exp_1/stop") == [None]


async def test_promote_succeeds_when_the_evaluator_ended_the_test_meanwhile(
    browser: httpx.AsyncClient, fake: FakeV1
) -> None:
    fake.stopped_meanwhile = True
    response = await browser.post("/experiments/exp_1/promote", data={"note": "clear winner"})
    assert response.status_code == 303
    assert response.headers["location"].startswith("/experiments/exp_1")
    assert fake.bodies("POST", "/v1/registry/models/support-bot/deployments")


async def test_roll_back_after_an_automatic_promotion_moves_the_alias_back(
    browser: httpx.AsyncClient, fake: FakeV1
) -> None:
    fake.production = 2  # the evaluator promoted the new version already
    response = await browser.post("/experiments/exp_1/rollback", data={"note": "tone is off"})
    assert response.status_code == 303
    assert fake.bodies("POST", "/v1/experiments/exp_1/stop") == [None]
    [body] = fake.bodies("POST", "/v1/registry/models/support-bot/aliases/production/rollback")
    assert body["notes"] == "tone is off"


async def test_the_wizard_counts_live_and_estimates_the_cost(browser: httpx.AsyncClient) -> None:
    first = await browser.get("/fine-tune")
    assert 'data-count="matching">3<' in first.text  # gold only by default
    assert '<option value="billing">billing (1)</option>' in first.text
    counts = await browser.get("/fine-tune/counts?dataset=gold&domain=billing")
    assert 'data-count="matching">1<' in counts.json()["fragments"]["counts"]
    models = await browser.get("/fine-tune/model?dataset=Gold+Stars&gold_star_only=on")
    assert 'value="tiny-llama" checked' in models.text
    assert "support-bot@1" not in models.text  # registry versions are not base models
    assert 'id="model_name" name="model_name" value="gold-stars"' in models.text
    settings = await browser.get(
        "/fine-tune/settings?dataset=gold&gold_star_only=on&base_model=tiny-llama&model_name=b"
    )
    assert 'data-estimate="tokens">360<' in settings.text  # 3 examples x 40 tokens x 3 epochs
    assert "1 min 35 s" in settings.text


async def test_the_wizard_exports_then_trains_on_the_export(
    browser: httpx.AsyncClient, fake: FakeV1
) -> None:
    form = {
        "dataset": "gold",
        "gold_star_only": "on",
        "min_rating": "4",
        "base_model": "tiny-llama",
        "model_name": "support-bot",
        "n_epochs": "auto",
        "batch_size": "4",
        "learning_rate": "0.005",
        "max_steps": "20",
        "lora_r": "8",
    }
    response = await browser.post("/fine-tune/start", data=form)
    assert response.status_code == 303
    assert response.headers["location"] == "/fine-tune/jobs/ftjob-3?model_name=support-bot"
    [export] = fake.bodies("POST", "/v1/datasets/exports")
    assert export == {
        "name": "gold",
        "filters": {"min_rating": 4, "gold_star_only": True, "domain": None, "task_type": None},
    }
    [created] = fake.bodies("POST", "/v1/fine_tuning/jobs")
    assert created["training_file"] == "b" * 64
    assert (created["dataset"], created["dataset_version"]) == ("gold", 2)
    assert created["hyperparameters"] == {
        "n_epochs": "auto",
        "batch_size": 4,
        "learning_rate": 0.005,
        "lora_r": 8,
        "max_steps": 20,
    }


async def test_the_wizard_says_why_training_could_not_start(
    browser: httpx.AsyncClient, fake: FakeV1
) -> None:
    fake.export_error = {
        "code": "too_few_examples",
        "message": "only 3 usable examples (10 are needed)",
        "errors": [],
    }
    form = {"dataset": "gold", "base_model": "tiny-llama", "model_name": "b", "lora_r": "8"}
    page = await browser.post("/fine-tune/start", data=form)
    assert page.status_code == 422
    assert "Training could not start" in page.text
    assert "only 3 usable examples (10 are needed)" in page.text
    assert fake.bodies("POST", "/v1/fine_tuning/jobs") == []
    typo = await browser.post("/fine-tune/start", data={**form, "batch_size": "four"})
    assert "Batch size: &#39;four&#39; is not a number" in typo.text


@pytest.mark.parametrize(
    ("path", "heading"),
    [
        ("/datasets", "<h1>Datasets</h1>"),
        ("/models", "<h1>Models</h1>"),
        ("/models/support-bot", "<h1>support-bot</h1>"),
        ("/compare?model=support-bot&a=1&b=2", "Metrics side by side"),
        ("/experiments", "<h1>A/B tests</h1>"),
        ("/costs", "Costs and return on investment"),
    ],
)
async def test_every_page_renders_with_a_heading(
    browser: httpx.AsyncClient, path: str, heading: str
) -> None:
    page = await browser.get(path)
    assert page.status_code == 200, page.text
    assert heading in page.text


async def test_a_model_page_shows_lineage_history_and_release_forms(
    browser: httpx.AsyncClient, fake: FakeV1
) -> None:
    page = (await browser.get("/models/support-bot")).text
    assert "tiny-llama + gold v2 via" in page
    assert 'action="/models/support-bot/rollback"' in page
    assert '<input type="hidden" name="control" value="support-bot@1-abcd1">' in page
    deployed = await browser.post(
        "/models/support-bot/deploy", data={"version": "2", "alias": "production", "note": "ok"}
    )
    assert deployed.status_code == 303
    assert fake.bodies("POST", "/v1/registry/models/support-bot/deployments")[0]["notes"] == "ok"


async def test_the_roi_calculator_answers_or_says_what_is_wrong(
    browser: httpx.AsyncClient,
) -> None:
    page = await browser.post("/costs/roi", data={"base_accuracy": "0.8", "tuned_accuracy": "0.9"})
    assert "Fine-tuning pays for itself within a day." in page.text
    assert "<svg" in page.text
    wrong = await browser.post("/costs/roi", data={"tuned_accuracy": "9"})
    assert "tuned_accuracy must be at most 1" in wrong.text
    typo = await browser.post("/costs/roi", data={"tuned_accuracy": "lots"})
    assert "Accuracy after: &#39;lots&#39; is not a number" in typo.text


async def test_the_deploy_step_follows_the_models_events_until_the_version_is_registered(
    browser: httpx.AsyncClient, fake: FakeV1
) -> None:
    waiting = await browser.get("/fine-tune/jobs/ftjob-3?model_name=support-bot")
    assert "Waiting for the registry to register the new version" in waiting.text
    assert 'data-live-stream="/models/support-bot/stream"' in waiting.text
    assert "data-reload-when-done" in waiting.text
    assert "data-live-reload" not in waiting.text
    fake.later_versions.append(3)
    registered = await browser.get("/fine-tune/jobs/ftjob-3?model_name=support-bot")
    assert "Version 3 (<code>support-bot@3-abcd3</code>) is registered." in registered.text
    assert "data-live-stream" not in registered.text


async def test_a_running_comparison_follows_the_evaluations_events(
    browser: httpx.AsyncClient, fake: FakeV1
) -> None:
    running = await browser.get("/compare?model=support-bot&a=1&b=2&evaluation=ev_1")
    assert "1 of 2 prompt(s) answered" in running.text
    assert 'data-live-stream="/evaluations/ev_1/stream" data-live-page' in running.text
    assert 'data-fragment="evaluation"' in running.text
    assert "data-live-reload" not in running.text
    fake.evaluation_done = 2
    complete = await browser.get("/compare?model=support-bot&a=1&b=2&evaluation=ev_1")
    assert "2 of 2 prompt(s) answered" in complete.text
    assert "data-live-stream" not in complete.text


async def test_the_ab_step_waits_until_the_router_can_serve_the_new_version(
    browser: httpx.AsyncClient, fake: FakeV1
) -> None:
    waiting = await browser.get("/fine-tune/jobs/ftjob-2/test?model_name=support-bot")
    assert "The router is getting version 2 ready to serve" in waiting.text
    assert 'data-live-stream="/models/support-bot/stream" data-live-page' in waiting.text
    assert "data-live-reload" not in waiting.text
    assert "Start the A/B test" not in waiting.text
    fake.served.append("support-bot@2-abcd2")
    ready = await browser.get("/fine-tune/jobs/ftjob-2/test?model_name=support-bot")
    assert '<input type="hidden" name="control" value="support-bot@1-abcd1">' in ready.text
    assert '<option value="support-bot@2-abcd2">v2 (support-bot@2-abcd2)</option>' in ready.text
    assert 'type="range" min="1" max="50"' in ready.text
    started = await browser.post(
        "/experiments",
        data={
            "name": "support-bot-v2-vs-v1",
            "model_name": "support-bot",
            "control": "support-bot@1-abcd1",
            "treatment": "support-bot@2-abcd2",
            "weight_percent": "30",
            "min_units": "20",
            "guided": "1",
        },
    )
    assert started.headers["location"].startswith("/experiments/exp_1?guided=1&notice=")
    [body] = fake.bodies("POST", "/v1/experiments")
    assert body["control"] == {
        "name": "current",
        "serving_name": "support-bot@1-abcd1",
        "weight": 0.7,
    }
    assert body["treatments"][0]["weight"] == 0.3
    assert body["stopping"] == {"min_units_per_arm": 20, "auto_promote": False}
