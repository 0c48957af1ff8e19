"""Which scope a request needs, from its method and path. ``admin`` implies every scope.

Reads (GET) need ``read``; writes need the scope of the work they start: training data,
files, jobs and evaluations ``train``; registry versions, deployments, rollbacks,
experiments and retraining policies (whose runs train, then start experiments) ``deploy``;
completions and feedback ``infer``; keys, audit log, webhooks, prices and budgets ``admin``.
Any key may read itself (``GET /v1/me``).
Listing models is also allowed with ``infer``, as OpenAI clients list models before calling
them.
"""

import re

READ_METHODS = {"GET", "HEAD", "OPTIONS"}
ADMIN_PREFIXES = ("/v1/keys", "/v1/audit", "/v1/webhooks", "/v1/prices", "/v1/budgets")
INFER_PATHS = ("/v1/chat/completions", "/v1/completions", "/v1/feedback")
READ_ONLY_POSTS = ("/v1/costs", "/v1/budgets/check")
DEPLOY_PATTERNS = (
    re.compile(r"^/v1/experiments(/|$)"),
    re.compile(r"^/v1/registry(/|$)"),
    re.compile(r"^/v1/models/"),
    re.compile(r"^/v1/retraining(/|$)"),
)
SELF_PATH = "/v1/me"
"""Where a key reads what it is: any key may."""
EVERY_SCOPE = frozenset({"admin", "train", "deploy", "infer", "read"})
TRAIN_PREFIXES = ("/v1/fine_tuning", "/v1/files", "/v1/examples", "/v1/datasets", "/v1/evaluations")


def _under(path: str, prefixes: tuple[str, ...]) -> bool:
    return any(path == p or path.startswith(p + "/") for p in prefixes)


def accepted_scopes(method: str, path: str) -> frozenset[str]:
    """The scopes any one of which lets a key make this request (admin always does)."""
    method = method.upper()
    if path == SELF_PATH and method in READ_METHODS:
        return EVERY_SCOPE
    if method in READ_METHODS:
        if _under(path, ("/v1/keys", "/v1/audit", "/v1/webhooks")):
            return frozenset({"admin"})
        if path == "/v1/models" or path.startswith("/v1/models/"):
            return frozenset({"read", "infer"})
        return frozenset({"read"})
    if _under(path, INFER_PATHS):
        return frozenset({"infer"})
    if method == "POST" and _under(path, READ_ONLY_POSTS):
        return frozenset({"read"})
    if _under(path, ADMIN_PREFIXES):
        return frozenset({"admin"})
    if any(pattern.match(path) for pattern in DEPLOY_PATTERNS):
        return frozenset({"deploy"})
    if _under(path, TRAIN_PREFIXES):
        return frozenset({"train"})
    return frozenset({"admin"})


__all__ = ["accepted_scopes"]
