"""What drawing a widget costs the UI thread, which shares the interpreter with training.

:class:`RenderTimed` adds the CPU time of each ``render_lines`` call (the thread's own clock,
so time the training thread held the interpreter does not count) to ``_render_cpu``; the
charts weigh it when spacing their replots, the decision map reports it to the session
(:meth:`RenderTimed.take_render_cpu`), which spaces the views by it.
"""

from __future__ import annotations

import time

from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget


class RenderTimed(Widget):
    """A widget that keeps count of the CPU seconds its drawing took."""

    _render_cpu = 0.0  # CPU seconds spent drawing since the last take_render_cpu

    def render_lines(self, crop: Region) -> list[Strip]:
        start = time.thread_time()
        try:
            return super().render_lines(crop)
        finally:
            self._render_cpu += time.thread_time() - start

    def take_render_cpu(self) -> float:
        """CPU seconds spent drawing since the last call (then starts again from 0)."""
        spent, self._render_cpu = self._render_cpu, 0.0
        return spent
