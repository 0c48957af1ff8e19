"""What one request or one piece of feedback adds to an arm's primary metric."""

from contracts.events.experiments import PrimaryMetric

KIND_OF_METRIC = {
    "gold_star_rate": "proportion",
    "task_success": "proportion",
    "mean_rating": "mean",
}
LABEL_OF_METRIC = {
    "gold_star_rate": "gold-star rate",
    "task_success": "task success rate",
    "mean_rating": "mean rating",
}


def counts_every_request(metric: PrimaryMetric) -> bool:
    """Rates are per served request (no feedback counts as 0); a mean rating per rating."""
    return metric != "mean_rating"


def feedback_value(metric: PrimaryMetric, gold_star: bool, rating: int | None) -> float | None:
    """The metric's value for one request's feedback; None when it says nothing about it."""
    if metric == "gold_star_rate":
        return 1.0 if gold_star else 0.0
    if metric == "task_success":
        return 1.0 if gold_star or (rating is not None and rating >= 4) else 0.0
    return float(rating) if rating is not None else None


__all__ = ["KIND_OF_METRIC", "LABEL_OF_METRIC", "counts_every_request", "feedback_value"]
