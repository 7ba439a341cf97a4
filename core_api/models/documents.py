"""Models of the documents domain (issue 3). FIRM_SCOPED tables get forced RLS in their migration."""

FIRM_SCOPED: list[str] = []
