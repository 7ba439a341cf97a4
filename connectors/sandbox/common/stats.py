"""Per-tenant request counters, so tests can assert that a client really retried."""

from collections import Counter, defaultdict


class RequestStats:
    def __init__(self) -> None:
        self._counts: dict[str, Counter[tuple[str, str]]] = defaultdict(Counter)

    def record(self, tenant: str, path: str, outcome: str) -> None:
        """``outcome`` is the HTTP status as text, or "dropped" / "timeout" when no answer was sent."""
        self._counts[tenant][(path, outcome)] += 1

    def snapshot(self, tenant: str) -> dict:
        counts = self._counts.get(tenant, Counter())
        by_path: dict[str, dict[str, int]] = defaultdict(dict)
        by_outcome: Counter[str] = Counter()
        for (path, outcome), n in sorted(counts.items()):
            by_path[path][outcome] = n
            by_outcome[outcome] += n
        return {"total": sum(counts.values()), "by_status": dict(by_outcome), "by_path": dict(by_path)}

    def reset(self, tenant: str) -> None:
        self._counts.pop(tenant, None)
