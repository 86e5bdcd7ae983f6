"""The sync plan, shown before anything is copied: new / changed / only on the board / same.
Enter applies it; `d` turns deleting what is only on the board on and off (planned again);
`v` shows how the changed files differ from the board's."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Checkbox, Label

from mptui.errors import MptuiError
from mptui.services.rdiff import FileDiff
from mptui.services.sync import CHANGED, PlanItem, SyncPlan
from mptui.ui.safe_text import printable
from mptui.ui.units import error_text
from mptui.ui.widgets.sync_plan_view import SyncPlanView, plan_outcome, plan_summary
from mptui.ui.workers import work

Planner = Callable[[bool], Awaitable[SyncPlan]]  # delete? -> the plan
PlanDiffer = Callable[[SyncPlan, PlanItem], Awaitable[FileDiff]]


class SyncPlanScreen(ModalScreen[SyncPlan | None]):
    """Returns the plan to apply, or None."""

    DEFAULT_CSS = """
    SyncPlanScreen { align: center middle; }
    SyncPlanScreen > Vertical {
        width: 90; max-width: 96%; height: 90%;
        border: round $primary; background: $surface; padding: 0 1;
    }
    SyncPlanScreen #sync-title { width: 1fr; text-style: bold; }
    SyncPlanScreen #sync-summary { width: 1fr; }
    SyncPlanScreen #sync-outcome { width: 1fr; color: $text-muted; }
    SyncPlanScreen #sync-items { height: 1fr; border-top: solid $panel; border-bottom: solid $panel; }
    SyncPlanScreen Checkbox { border: none; padding: 0; height: 1; background: $surface; }
    SyncPlanScreen #sync-keys { width: 1fr; color: $text-muted; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "apply", "Apply", id="sync.apply", tooltip="Apply the plan"),
        Binding("d", "toggle_delete", "Delete extras", id="sync.toggle-delete",
                tooltip="Delete what is only on the board (on/off)"),
        Binding("e", "explain", "Explain", id="sync.explain",
                tooltip="Show what the ignore set leaves out, and by which rule (on/off)"),
        Binding("v", "diffs", "Diffs", id="sync.diffs",
                tooltip="Show how each changed file differs from the board's (unified diff)"),
        Binding("escape", "cancel", "Cancel", id="sync.cancel"),
    ]

    def __init__(self, title: str, planner: Planner, delete: bool = False,
                 differ: PlanDiffer | None = None) -> None:
        """`differ(plan, item)`: a changed file's diff (the `v` key; None: no diffs)."""
        super().__init__()
        self.differ = differ
        self.title_text = title
        self.planner = planner
        self.delete = delete
        self.explain = False
        self.plan: SyncPlan | None = None

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "Sync plan"
            yield Label(printable(self.title_text), id="sync-title", markup=False)
            yield Label("comparing…", id="sync-summary", markup=False)
            yield Label("", id="sync-outcome", markup=False)
            with VerticalScroll(id="sync-items"):
                yield SyncPlanView(id="sync-plan")
            checkbox = Checkbox("Delete what is only on the board", self.delete, id="sync-delete")
            checkbox.can_focus = False
            yield checkbox
            yield Label("Enter: apply · d: delete extras · e: left out · v: diffs · Esc: cancel",
                        id="sync-keys")

    def on_mount(self) -> None:
        self.query_one("#sync-items").focus()
        self.make_plan()

    @work(exclusive=True, group="sync-plan")
    async def make_plan(self) -> None:
        self.plan = None
        self.query_one("#sync-summary", Label).update("comparing…")
        try:
            plan = await self.planner(self.delete)
        except (OSError, MptuiError) as e:
            self.query_one("#sync-summary", Label).update(printable(f"cannot compare: {error_text(e)}"))
            return
        self.plan = plan
        self.query_one("#sync-summary", Label).update(plan_summary(plan))
        self.query_one("#sync-outcome", Label).update(plan_outcome(plan))
        self.query_one(SyncPlanView).show(plan, self.explain)

    def action_apply(self) -> None:
        if self.plan is not None:
            self.dismiss(self.plan)

    def action_explain(self) -> None:
        self.explain = not self.explain
        if self.plan is not None:
            self.query_one(SyncPlanView).show(self.plan, self.explain)

    def action_diffs(self) -> None:
        """The changed files' diffs, the board's content fetched now."""
        from mptui.ui.screens.file_diff import FileDiffScreen

        plan, differ = self.plan, self.differ
        if plan is None or differ is None:
            return
        items = [i for i in plan.of(CHANGED, dirs=False) if not i.replace]
        self.app.push_screen(FileDiffScreen(items, lambda item: differ(plan, item)))

    def action_toggle_delete(self) -> None:
        self.query_one(Checkbox).toggle()

    @on(Checkbox.Changed)
    def delete_changed(self, event: Checkbox.Changed) -> None:
        if event.value != self.delete:
            self.delete = event.value
            self.make_plan()

    def action_cancel(self) -> None:
        self.dismiss(None)
