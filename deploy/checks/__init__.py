"""Offline checks of the deployment artifacts under deploy/ (no Docker engine, no cluster): each returns a
list of problems, empty when the artifact passes. tests/deploy runs them on the real files and on broken
copies, so a check that stopped catching anything would fail there."""
