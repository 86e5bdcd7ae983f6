"""Every key binding of the app, for the help screen and the command palette (one list
serving both), with the user's keymap applied."""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding, BindingsMap


@dataclass(frozen=True)
class KeyHelp:
    group: str
    keys: tuple[str, ...]  # as Textual names them, after the keymap
    description: str
    binding: Binding

    @property
    def id(self) -> str | None:
        return self.binding.id


def class_bindings(cls) -> list[Binding]:
    """A widget class's bindings with those it inherits, later classes winning a key."""
    by_key: dict[str, Binding] = {}
    for base in reversed(cls.__mro__):
        if "BINDINGS" not in vars(base):
            continue
        for key, binding in BindingsMap(vars(base)["BINDINGS"]):
            by_key[key] = binding
    unique: dict[tuple, Binding] = {}
    for binding in by_key.values():
        unique.setdefault((binding.action, binding.id, binding.description), binding)
    return list(unique.values())


def key_help(groups: list[tuple[str, type]], keymap: dict[str, str]) -> list[KeyHelp]:
    """(group title, widget class) pairs -> what each key does, keymap applied."""
    found: dict[tuple, KeyHelp] = {}
    for title, cls in groups:
        for binding in class_bindings(cls):
            if binding.system:
                continue
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
    return list(found.values())


def _keys(binding: Binding, keymap: dict[str, str]) -> tuple[str, ...]:
    if binding.id and binding.id in keymap:
        return tuple(k.strip() for k in keymap[binding.id].split(",") if k.strip())
    return (binding.key,)


def binding_ids(groups: list[tuple[str, type]]) -> set[str]:
    return {b.id for _, cls in groups for b in class_bindings(cls) if b.id}
