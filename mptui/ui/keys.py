"""Every key binding of the app, for the help screen and the command palette (one list
serving both), with the user's keymap applied."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from textual.binding import Binding, BindingsMap

# (group title, where its bindings are): a widget class (its BINDINGS, inherited ones too), or
# bindings added to an instance (the main screen's tab keys)
Group = tuple[str, type | Sequence[Binding]]


@dataclass(frozen=True)
class KeyHelp:
    group: str
    keys: tuple[str, ...]  # as Textual names them, after the keymap
    description: str
    binding: Binding

    @property
    def id(self) -> str | None:
        return self.binding.id


GENERAL = "General"  # bindings widgets inherit from Textual (focus moves, list navigation)


def class_bindings(cls, with_owner: bool = False) -> list:
    """A widget class's bindings with those it inherits, later classes winning a key; with
    `with_owner`, (binding, class that defines it) pairs. A list of bindings is taken as is
    (their owner: None, mptui's own)."""
    if not isinstance(cls, type):
        return [(b, None) for b in cls] if with_owner else list(cls)
    by_key: dict[str, tuple[Binding, type]] = {}
    for base in reversed(cls.__mro__):
        if "BINDINGS" not in vars(base):
            continue
        for key, binding in BindingsMap(vars(base)["BINDINGS"]):
            by_key[key] = (binding, base)
    unique: dict[tuple, tuple[Binding, type]] = {}
    for binding, owner in by_key.values():
        unique.setdefault((binding.action, binding.id, binding.description), (binding, owner))
    pairs = list(unique.values())
    return pairs if with_owner else [binding for binding, _ in pairs]


def key_help(groups: list[Group], keymap: dict[str, str]) -> list[KeyHelp]:
    """(group title, widget class or bindings) pairs -> what each key does, keymap applied."""
    found: dict[tuple, KeyHelp] = {}
    for group, cls in groups:
        for binding, owner in class_bindings(cls, with_owner=True):
            if binding.system:
                continue
            ours = owner is None or owner.__module__.startswith("mptui.")
            title = group if ours else GENERAL
            keys = _keys(binding, keymap)
            entry = found.get((title, binding.action, binding.id))
            if entry:
                keys = tuple(dict.fromkeys(entry.keys + keys))
            found[(title, binding.action, binding.id)] = KeyHelp(
                title,
                keys,
                binding.tooltip or binding.description or binding.action.replace("_", " "),
                binding,
            )
    order = [title for title, _ in groups] + [GENERAL]
    return sorted(found.values(), key=lambda entry: order.index(entry.group))


def _keys(binding: Binding, keymap: dict[str, str]) -> tuple[str, ...]:
    if binding.id and binding.id in keymap:
        return tuple(k.strip() for k in keymap[binding.id].split(",") if k.strip())
    return (binding.key,)


def binding_ids(groups: list[Group]) -> set[str]:
    return {b.id for _, cls in groups for b in class_bindings(cls) if b.id}
