"""Models of the webhooks domain (issue 3). Tables listed in FIRM_SCOPED get forced RLS in their migration."""

FIRM_SCOPED: list[str] = []
