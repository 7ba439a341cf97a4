"""Supply-chain tooling run by `make test` and `make audit` (ADR 0020): dependency audit, SBOMs."""
