"""The REPL terminal's frame pacing (mptui.ui.terminal.pacing), on a clock of its own: when
frames are due and which are painted at once. No Textual, no real time."""

from __future__ import annotations

from mptui.ui.terminal.pacing import (
    AT_ONCE,
    FLOOD_FRAME,
    FRAME,
    PROMPT_FRAME,
    TYPED_FRAME,
    Pacing,
)

HEIGHT = 40


def streaming(pacing: Pacing, now: float) -> float:
    """Output streams in (a frame drawn just before): the next output's frame."""
    pacing.frame(now)
    pacing.drawn(1, HEIGHT)
    pacing.output(b"x", now + 0.0001, None)
    return pacing.output(b"y", now + 0.0002, None)


def test_output_after_a_pause_and_an_echo_are_due_at_once_and_painted_at_once():
    pacing = Pacing()
    assert pacing.output(b">>> ", 10.0, None) == 10.0 + AT_ONCE  # a prompt after silence
    pacing.frame(10.001)
    assert pacing.drawn(0, HEIGHT)
    # a stream: its frames keep the pace, drawn by the screen's own update
    assert streaming(pacing, 10.002) == 10.002 + FRAME
    pacing.frame(10.002 + FRAME)
    assert not pacing.drawn(1, HEIGHT)
    # a key during the stream: fast frames, and its echo's frame at once
    last = 10.002 + FRAME
    now = last + 0.001
    pacing.output(b"1\r\n", now, None)
    pacing.typed(b"q", now + 0.0005)
    assert pacing.output(b"2\r\n", now + 0.001, last + FRAME) == last + TYPED_FRAME
    assert pacing.output(b"3\r\nq", now + 0.002, now + FRAME) == now + 0.002 + AT_ONCE
    pacing.frame(now + 0.0025)
    assert pacing.drawn(1, HEIGHT)


def test_a_flood_slows_the_frames_and_a_key_does_not_bring_fast_frames_back_for_long():
    pacing = Pacing()
    pacing.typed(b"\r", 0.0)
    assert pacing.interval(0.001) == TYPED_FRAME  # the answer to a line: fast frames
    pacing.frame(0.004)
    assert not pacing.drawn(3 * HEIGHT, HEIGHT)  # it floods: not painted at once
    assert pacing.interval(0.005) == FLOOD_FRAME  # and frames come further apart
    pacing.output(b"1\r\n", 0.0045, None)
    assert pacing.output(b"2\r\n", 0.005, None) == 0.004 + FLOOD_FRAME
    pacing.frame(0.2)
    pacing.drawn(HEIGHT - 1, HEIGHT)  # less than a screen a frame: the usual pace
    assert pacing.interval(0.21) == FRAME


def test_the_echo_of_a_key_that_shows_nothing_is_not_waited_for():
    pacing = Pacing()
    pacing.typed(b"\x03", 0.0)  # Ctrl-C: no echo of its own
    pacing.output(b"x" * 10, 0.001, None)  # (after silence: at once)
    pacing.frame(0.0015)
    pacing.drawn(0, HEIGHT)
    assert pacing.output(b"\x03", 0.002, None) == 0.0015 + TYPED_FRAME


def test_the_prompt_that_ends_a_flood_is_shown_at_once_but_not_at_every_piece():
    pacing = Pacing()
    pacing.frame(1.0)
    pacing.drawn(3 * HEIGHT, HEIGHT)  # a flood
    assert pacing.output(b"99998\r\n", 1.001, None) == 1.0 + FLOOD_FRAME
    assert pacing.output(b"99999\r\n>>> ", 1.02, 1.0 + FLOOD_FRAME) == 1.02 + AT_ONCE
    pacing.frame(1.02)
    assert pacing.drawn(2, HEIGHT)  # painted at once
    # output ending with a prompt by chance, piece after piece: frames stay apart
    assert pacing.output(b"x\r\n>>> ", 1.021, None) == 1.02 + PROMPT_FRAME


def test_the_first_output_after_a_quiet_frame_is_painted_at_once():
    pacing = Pacing()
    pacing.frame(5.0)
    pacing.drawn(0, HEIGHT)
    assert pacing.output(b"hello\r\n", 5.5, None) == 5.5 + AT_ONCE  # an answer, no key
    pacing.frame(5.5005)
    assert pacing.drawn(1, HEIGHT)


def test_a_key_after_a_flood_brings_fast_frames_back():
    pacing = Pacing()
    pacing.frame(1.0)
    pacing.drawn(HEIGHT, HEIGHT)  # a whole screen in a frame: a flood
    assert pacing.interval(1.01) == FLOOD_FRAME
    pacing.frame(1.05)
    pacing.drawn(1, HEIGHT)  # it ended
    pacing.typed(b"\r", 1.2)
    assert pacing.interval(1.201) == TYPED_FRAME


def test_the_echo_awaited_is_the_last_byte_typed():
    pacing = Pacing()
    pacing.frame(1.0)
    pacing.drawn(1, HEIGHT)
    pacing.typed(b"ab", 1.001)  # two keys in one write
    assert pacing.output(b"b", 1.002, 1.0 + FRAME) == 1.002 + AT_ONCE


def test_a_late_echo_is_painted_at_once():
    pacing = Pacing()
    pacing.frame(0.0)
    pacing.drawn(1, HEIGHT)
    pacing.typed(b"q", 0.01)  # a slow link: the echo comes after the fast frames are over
    assert pacing.output(b"q", 0.4, 0.5) == 0.4 + AT_ONCE
    pacing.frame(0.4005)
    assert pacing.drawn(1, HEIGHT)


def test_a_space_and_a_tilde_are_echoes_too():
    for key in (b" ", b"~"):
        pacing = Pacing()
        pacing.frame(1.0)
        pacing.drawn(1, HEIGHT)
        pacing.typed(key, 1.001)
        assert pacing.output(key, 1.002, 1.0 + FRAME) == 1.002 + AT_ONCE
