"""The history of OTA pushes, kept in the user's data dir: one JSON line per push (when, which
release, fast or full, and each board's result), newest last, at most `limit` pushes."""

from __future__ import annotations

import dataclasses
import json
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from mptui.paths import data_dir
from mptui.services.ota import PushResult

LIMIT = 200
_RESULT_FIELDS = {f.name for f in dataclasses.fields(PushResult)}


def history_path() -> Path:
    return data_dir() / "ota-history.jsonl"


@dataclass
class PushRecord:
    when: float  # seconds since the epoch
    version: str
    full: bool
    project: str  # the project's mptui.toml
    results: list[PushResult] = field(default_factory=list)

    @property
    def failed(self) -> int:
        return sum(not r.ok for r in self.results)

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, line: str) -> PushRecord:
        """Raises ValueError (or TypeError, KeyError) for a line that is not a record."""
        data = json.loads(line)
        results = [PushResult(**{k: v for k, v in r.items() if k in _RESULT_FIELDS})
                   for r in data["results"]]
        return cls(float(data["when"]), str(data["version"]), bool(data["full"]),
                   str(data["project"]), results)


class History:
    def __init__(self, path: Path | None = None, limit: int = LIMIT) -> None:
        self.path = path or history_path()
        self.limit = limit
        self._lock = threading.Lock()  # pushes may finish together (adds run in threads)

    def load(self) -> list[PushRecord]:
        """Oldest first; lines that cannot be read (a foreign edit, a torn disk) are skipped."""
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return []
        except (OSError, UnicodeDecodeError):
            return []
        records = []
        for line in lines:
            try:
                records.append(PushRecord.from_json(line))
            except (ValueError, TypeError, KeyError, AttributeError):
                continue
        return records[-self.limit:]

    def add(self, record: PushRecord) -> None:
        """Append one push, dropping the oldest beyond `limit`; the file is replaced atomically."""
        with self._lock:
            records = [*self.load(), record][-self.limit:]
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
            tmp.write_text("".join(r.to_json() + "\n" for r in records), encoding="utf-8")
            os.replace(tmp, self.path)

    @staticmethod
    def record(results: list[PushResult], version: str, full: bool, project: Path | str,
               when: float | None = None) -> PushRecord:
        return PushRecord(time.time() if when is None else when, version, full, str(project),
                          list(results))


def last_results(records: list[PushRecord]) -> dict[str, tuple[float, PushResult]]:
    """Each board's latest result and when it came: {board: (when, result)}."""
    last: dict[str, tuple[float, PushResult]] = {}
    for record in records:
        for result in record.results:
            last[result.board] = (record.when, result)
    return last
