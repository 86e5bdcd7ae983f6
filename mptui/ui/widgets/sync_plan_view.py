"""A sync plan as a list: what is new, changed, only on the board, the same; what is left out
(when asked); and warnings."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from mptui.services.sync import CHANGED, EXTRA, NEW, SAME, PlanItem, SyncPlan
from mptui.ui.safe_text import printable
from mptui.ui.units import size_text

LABEL_WIDTH = 11


def plan_summary(plan: SyncPlan) -> str:
    """'2 new · 1 changed · 1 only on the board · 5 same' (files; extra folders count once)."""
    counts = (
        (len(plan.of(NEW, dirs=False)), "new"),
        (len(plan.of(CHANGED, dirs=False)), "changed"),
        (len(plan.of(EXTRA)), "only on the board"),
        (len(plan.of(SAME, dirs=False)), "same"),
    )
    return " · ".join(f"{n} {what}" for n, what in counts)


def plan_outcome(plan: SyncPlan) -> str:
    """What applying does: 'Apply: copy 3 files (1.2 KiB), delete 1' or 'Up to date...'."""
    parts = []
    if plan.to_copy:
        n = len(plan.to_copy)
        parts.append(f"copy {n} file{'s' if n != 1 else ''} ({size_text(plan.copy_bytes)})")
    if plan.to_delete:
        parts.append(f"delete {len(plan.to_delete)}")
    folders = len(plan.folders_to_make) + plan.make_root
    if folders:
        parts.append(f"make {folders} folder{'s' if folders != 1 else ''}")
    if plan.leftovers:
        parts.append(f"clean up {len(plan.leftovers)}")
    return "Apply: " + ", ".join(parts) if parts else "Up to date: nothing to copy"


class SyncPlanView(Static):
    DEFAULT_CSS = """
    SyncPlanView { width: 1fr; height: auto; }
    """

    def show(self, plan: SyncPlan, explain: bool = False) -> None:
        """The plan; with explain, also what the ignore set left out and by which rule."""
        lines = [self._line(item, plan.delete) for kind in (NEW, CHANGED, EXTRA, SAME)
                 for item in plan.of(kind)]
        lines += [self._mark("clean up", "$text-muted", f"{rel} (left by a cut copy)")
                  for rel in plan.leftovers]
        if explain:
            lines += [self._mark("· ignored", "$text-muted", f"{rel} ({why})")
                      for rel, why in plan.ignored]
        lines += [Content.styled(printable(f"warning: {w}"), "$warning") for w in plan.warnings]
        self.update(Content("\n").join(lines) if lines else Content("both folders are empty"))

    def _line(self, item: PlanItem, delete: bool) -> Content:
        name = item.path + ("/" if item.is_dir else "")
        if item.kind == NEW:
            return self._mark("+ new", "$success", name, item)
        if item.kind == CHANGED:
            return self._mark("~ replace" if item.replace else "~ changed", "$warning", name, item)
        if item.kind == EXTRA:
            held = f" ({item.files} file{'s' if item.files != 1 else ''})" if item.is_dir else ""
            if delete:
                return self._mark("- delete", "$error", name + held)
            return self._mark("· on board", "$text-muted", name + held + ", kept")
        return self._mark("= same", "$text-muted", name)

    @staticmethod
    def _mark(label: str, style: str, text: str, item: PlanItem | None = None) -> Content:
        size = f" ({size_text(item.size)})" if item and not item.is_dir else ""
        source = f" from {item.source}" if item and item.source and item.source != item.path else ""
        return Content.assemble(
            Content.styled(label.ljust(LABEL_WIDTH), style), printable(text + size + source)
        )
