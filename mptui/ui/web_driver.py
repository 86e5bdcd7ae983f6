"""Textual's web driver (what textual-serve runs apps with), except that the app quits when its
server goes. Textual's own keeps running once its input closes, so an app would outlive a
`mptui serve` that was killed, holding its board. `mptui serve` selects this one through
$TEXTUAL_DRIVER."""

from __future__ import annotations

from textual import messages
from textual.drivers import web_driver


class WebDriver(web_driver.WebDriver):
    def run_input_thread(self) -> None:
        super().run_input_thread()  # returns when the server closes our stdin, or at exit
        if not self.exit_event.is_set():
            self._app.post_message(messages.ExitApp())
