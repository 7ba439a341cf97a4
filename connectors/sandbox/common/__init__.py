"""Machinery every vendor emulator reuses: clock, signed tokens, rate limits, faults, stats, fake data."""
