"""When the REPL terminal's next frame is due, and which frames are painted at once. No Textual
here: the widget tells what happened (a key sent, output received, a frame drawn) and asks.

- While output streams in, frames come every FRAME; while a flood scrolls more than a screen a
  frame, every FLOOD_FRAME (more would show nothing that can be read, and on a small machine
  the app's time is the board's).
- Just after a key, what it makes the board say is due: frames come every TYPED_FRAME for a
  moment (the answer to a line shows within a few ms), unless a frame scrolls a whole screen.
- A key's echo (during a flood too), the REPL's prompt (the end of a flood, of a reboot) and
  the first output for a frame's time (an answer) get their frame at once, painted at once
  rather than at the screen's next update.
"""

from __future__ import annotations

FRAME = 1 / 30  # seconds between frames while output streams in
FLOOD_FRAME = 1 / 10  # while each frame scrolls more than a screen
TYPED_FRAME = 0.004  # for TYPED_WINDOW seconds after a key
TYPED_WINDOW = 0.15
AT_ONCE = 0.0005  # seconds: the delay of a frame due at once
PROMPT_FRAME = FRAME / 3  # output that ends with the REPL's prompt: its frame at once, but
PROMPTS = (b">>> ", b"... ", b"=== ")  # not sooner than this after the last one


class Pacing:
    def __init__(self) -> None:
        self.last_frame = 0.0
        self._typed_at = float("-inf")
        self._echo = b""  # the last byte typed, while its echo has not come back
        self._flooded = False  # a frame since the last key scrolled a whole screen
        self._pouring = False  # the last frame did
        self._paint = False  # the next frame is painted at once
        self._frame_paint = self._frame_typed = False  # (the frame being drawn)

    def typed(self, data: bytes, now: float) -> None:
        """Bytes were sent to the board as typed."""
        self._typed_at = now
        self._flooded = False
        last = data[-1:]
        self._echo = last if last == b"\r" or b" " <= last <= b"~" else b""

    def output(self, data: bytes, now: float, due: float | None) -> float:
        """Output came (`due`: when the frame already planned is, None if none is): when the
        next frame is due."""
        if self._echo and self._echo in data:  # (or a byte like it: a frame early, no harm)
            self._echo = b""
            self._paint = True
            at = now + AT_ONCE
        elif data.endswith(PROMPTS):  # the REPL waits for the user now: show it (once in a while
            self._paint = True  # at most: output may end a piece with one by chance)
            at = max(now + AT_ONCE, self.last_frame + PROMPT_FRAME)
        else:
            at = max(now + 0.001, self.last_frame + self.interval(now))
            if due is None and at < now + 0.002:  # the first output for a frame's time
                at = now + AT_ONCE
                self._paint = True
        return at if due is None else min(at, due)

    def interval(self, now: float) -> float:
        """Seconds from one frame to the next, now."""
        if self._pouring:
            return FLOOD_FRAME
        typed = now - self._typed_at < TYPED_WINDOW and not self._flooded
        return TYPED_FRAME if typed else FRAME

    def frame(self, now: float) -> None:
        """A frame starts (before it is drawn)."""
        self._frame_paint = self._paint or self.interval(now) == TYPED_FRAME
        self._frame_typed = not self._paint
        self._paint = False
        self.last_frame = now

    def drawn(self, scrolled: int, height: int) -> bool:
        """The frame scrolled `scrolled` lines of a screen `height` high: whether to paint it
        at once (an echo's, the first output for a frame's time; after a key, unless it scrolled
        a whole screen)."""
        self._pouring = scrolled >= max(1, height)
        self._flooded = self._flooded or self._pouring
        return self._frame_paint and not (self._frame_typed and self._flooded)
