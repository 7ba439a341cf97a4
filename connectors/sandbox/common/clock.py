"""Time source shared by an emulator's tokens, rate limits and change feeds."""

import time


class Clock:
    """Wall-clock seconds since the epoch, plus an offset tests can move forward.

    Token expiry, rate-limit windows and change-feed look-back all read this one clock, so a test can
    jump an hour ahead instead of sleeping through it.
    """

    def __init__(self, offset_seconds: float = 0.0) -> None:
        self._offset = offset_seconds

    def now(self) -> float:
        return time.time() + self._offset

    def advance(self, seconds: float) -> None:
        self._offset += seconds
