"""The cost service's HTTP API: bodies with decimal strings, versions, 429 refusals, errors."""

import json
from pathlib import Path

import httpx
import pytest

from libs.artifacts import LocalArtifactStore
from services.cost.api import create_api
from services.cost.costs import Costs
from tests.integration.cost.conftest import inference, job_completed, registered
from tests.support.identity import as_gateway, protected
from tests.tiny_tokenizer import build_word_tokenizer

pytestmark = pytest.mark.integration

ACME = {"X-Tuneloop-Tenant": "acme"}


def client_for(costs: Costs) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=protected(create_api(costs))),
        base_url="http://cost",
        auth=as_gateway(),
    )


async def test_prices_are_versioned_and_shipped_with_their_date(costs: Costs) -> None:
    async with client_for(costs) as client:
        shipped = (await client.get("/v1/prices", headers=ACME)).json()
        assert shipped["version"] == 0
        assert shipped["as_of"] == "2025-06-01"
        assert "openai.com/api/pricing" in shipped["source"]
        gpt35 = next(m for m in shipped["models"] if m["model"] == "ft:gpt-3.5-turbo")
        assert (gpt35["input_per_1m"], gpt35["output_per_1m"]) == ("3", "6")
        edit = {
            "models": [
                {
                    "model": "gpt-3.5-turbo",
                    "training_per_1m": "8",
                    "input_per_1m": "3",
                    "output_per_1m": "6.5",
                }
            ],
            "notes": "checked the provider's page",
        }
        saved = await client.post("/v1/prices", headers=ACME, json=edit)
        assert saved.status_code == 201, saved.text
        assert saved.json()["version"] == 1
        versions = (await client.get("/v1/prices/versions", headers=ACME)).json()
        assert [v["version"] for v in versions] == [0, 1]
        old = (await client.get("/v1/prices/versions/0", headers=ACME)).json()
        assert (
            next(m for m in old["models"] if m["model"] == "gpt-3.5-turbo")["output_per_1m"]
            == "1.5"
        )
        missing = await client.get("/v1/prices/versions/9", headers=ACME)
        assert missing.status_code == 404
        assert "GET /v1/prices/versions" in missing.json()["error"]["message"]
        bad = await client.post(
            "/v1/prices", headers=ACME, json={"models": [{"model": "m", "input_per_1m": "-1"}]}
        )
        assert bad.status_code == 422
        assert bad.json()["error"]["errors"][0]["field"] == "models.0.input_per_1m"


async def test_estimate_roi_ledger_summary_and_daily_series(costs: Costs) -> None:
    await costs.job_completed(job_completed("job-1", wall_seconds=3600.0))
    await costs.model_registered(registered("bot@1-aaaaaaaa", "gpt-4o-mini", job_id="job-1"))
    await costs.model_registered(registered("base@1-bbbbbbbb", "gpt-4o"))
    await costs.inference_completed(inference("bot@1-aaaaaaaa", prompt=300, completion=100))
    await costs.inference_completed(inference("base@1-bbbbbbbb", prompt=300, completion=100))
    async with client_for(costs) as client:
        estimate = await client.post(
            "/v1/costs/estimate",
            headers=ACME,
            json={
                "model": "gpt-4o-mini-2024-07-18",
                "example_token_counts": [1000] * 500,
                "epochs": 3,
                "hardware": ["a10"],
            },
        )
        assert estimate.status_code == 200, estimate.text
        assert estimate.json()["trained_tokens"] == 1_500_000
        assert estimate.json()["hosted"]["cost_usd"] == "4.5"  # 1.5M tokens x $3 / 1M
        roi = await client.post(
            "/v1/costs/roi",
            headers=ACME,
            json={
                "serving_name": "bot@1-aaaaaaaa",
                "baseline": "base@1-bbbbbbbb",
                "base_accuracy": "0.85",
                "tuned_accuracy": "0.92",
                "value_per_error_usd": "10",
                "calls_per_month": 5000,
            },
        )
        assert roi.status_code == 200, roi.text
        body = roi.json()
        assert body["training_cost_usd"] == "0.05"  # from the ledger: 1 h of cpu
        assert body["tuned_cost_per_call_usd"] == "0.000105"  # 300 x $0.15 + 100 x $0.60 / 1M
        assert body["base_cost_per_call_usd"] == "0.00175"  # 300 x $2.50 + 100 x $10, per 1M
        assert body["inference_saving_per_month_usd"] == "8.225"
        assert body["quality_value_per_month_usd"] == "3500"
        ledger = (await client.get("/v1/costs/ledger", headers=ACME)).json()
        assert ledger["total_usd"] == "0.051855"
        summary = (await client.get("/v1/costs/summary?group_by=kind", headers=ACME)).json()
        assert {r["group"]: r["amount_usd"] for r in summary["rows"]} == {
            "inference": "0.001855",
            "training": "0.05",
        }
        daily = (
            await client.get("/v1/costs/daily?first=2026-03-13&last=2026-03-14", headers=ACME)
        ).json()
        assert daily["days"] == ["2026-03-13", "2026-03-14"]
        assert {s["name"]: s["values"] for s in daily["series"]} == {
            "training": ["0", "0.05"],
            "inference": ["0", "0.001855"],
        }


async def test_budget_check_answers_429_when_work_would_exceed_it(costs: Costs) -> None:
    async with client_for(costs) as client:
        created = await client.post(
            "/v1/budgets", headers=ACME, json={"scope": "inference", "limit_usd": "1.00"}
        )
        assert created.status_code == 201, created.text
        fits = await client.post(
            "/v1/budgets/check", headers=ACME, json={"kind": "inference", "estimated_usd": "0.5"}
        )
        assert fits.status_code == 200
        assert fits.json()["allowed"] is True
        refused = await client.post(
            "/v1/budgets/check", headers=ACME, json={"kind": "inference", "estimated_usd": "1.5"}
        )
        assert refused.status_code == 429
        assert refused.json()["error"]["code"] == "budget_exceeded"
        assert "Raise the limit" in refused.json()["error"]["message"]
        wrong = await client.post(
            "/v1/budgets", headers=ACME, json={"scope": "job", "limit_usd": "1"}
        )
        assert wrong.status_code == 422
        assert wrong.json()["error"]["errors"][0]["field"] == "job_id"
        budget_id = created.json()["budget_id"]
        assert (await client.delete(f"/v1/budgets/{budget_id}", headers=ACME)).status_code == 204
        assert (await client.get("/v1/budgets", headers=ACME)).json() == []


async def test_estimate_of_an_exported_dataset_in_the_artifact_store(
    costs: Costs, tmp_path: Path
) -> None:
    costs.artifacts = LocalArtifactStore(tmp_path / "artifacts")
    tokenizer = build_word_tokenizer(tmp_path / "tokenizer")
    lines = [
        {"messages": [{"role": "user", "content": "please reset my password"}]},
        {"text": "the order has shipped and will arrive on monday"},
    ]
    stored = await costs.artifacts.put_bytes("\n".join(json.dumps(line) for line in lines).encode())
    async with client_for(costs) as client:
        request = {
            "model": "gpt-3.5-turbo",
            "dataset_sha256": stored.sha256,
            "tokenizer": str(tokenizer),
            "context_length": 8,
            "epochs": 3,
            "hardware": ["cpu"],
        }
        response = await client.post("/v1/costs/estimate", headers=ACME, json=request)
        assert response.status_code == 200, response.text
        body = response.json()
        # (<|im_start|> user 4 words <|im_end|>) = 7 tokens, 9 words capped at 8: 15 x 3
        assert (body["examples"], body["trained_tokens"], body["truncated_examples"]) == (2, 45, 1)
        assert body["hosted"]["cost_usd"] == "0.00036"
        missing = await client.post(
            "/v1/costs/estimate", headers=ACME, json={**request, "dataset_sha256": "0" * 64}
        )
        assert missing.status_code == 404
        assert "export it first" in missing.json()["error"]["message"]
        bad = await costs.artifacts.put_bytes(b'{"text": "ok"}\n{"oops": 1}\n')
        invalid = await client.post(
            "/v1/costs/estimate", headers=ACME, json={**request, "dataset_sha256": bad.sha256}
        )
        assert invalid.status_code == 422
        assert invalid.json()["error"]["errors"][0]["line"] == 2
