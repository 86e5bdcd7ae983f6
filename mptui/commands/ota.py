"""Over-the-air updates: set up a project, install the board agent, push signed releases to one
board or a whole fleet in parallel, check status, serve bundles for boards in pull mode.

  mptui ota init                     mptui.toml [ota], a release folder, a secrets file
  mptui ota install -d ADDR          the agent, over any link (USB, socket, virtual...)
  mptui ota push [-d ADDR ... | --all] [--full] [--allow-downgrade]
  mptui ota status [-d ADDR ... | --all]
  mptui ota bundle [-o DIR]          a folder for pull mode;  mptui ota serve [DIR]
  mptui ota passwd [-d ADDR ... | --all]
  mptui ota rollback -d ADDR

Boards are device addresses (the engine, e.g. USB), `ota://HOST[:PORT]` (the agent's TCP
server) or config names (with an `ota = "HOST:PORT"` option for network boards).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from mptui.commands.common import resolver_for as _resolver

HELP = "over-the-air updates: install the agent, push releases, status, bundles"

OK, BOARD_ERROR, USAGE = 0, 1, 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--project", metavar="PATH", help="mptui.toml (default: found from here up)")
    sub = parser.add_subparsers(dest="ota_command", metavar="ACTION", required=True,
                                parser_class=type(parser))

    def targets(p, all_ok=True):
        p.add_argument("-d", "--device", dest="targets", action="append", metavar="ADDRESS",
                       help="a board (repeat for several)")
        if all_ok:
            p.add_argument("--all", action="store_true", help="every board in [ota] boards")
        p.add_argument("--json", action="store_true", help="results as JSON lines")

    p = sub.add_parser("init", help="set up OTA in this project")
    p.add_argument("--version", dest="release_version", default="0.1.0", help="first release version")
    p.add_argument("--source", default="app", help="release folder (default: app)")
    p.add_argument("--no-password", action="store_true", help="no OTA password (LAN you trust)")
    p.add_argument("--bind", default="127.0.0.1",
                   help="where board agents listen (default 127.0.0.1, this board only; "
                        "0.0.0.0: every network the board joins, e.g. to push over WiFi)")

    p = sub.add_parser("install", help="install or upgrade the agent on a board")
    p.add_argument("-d", "--device", dest="targets", action="append", metavar="ADDRESS")
    p.add_argument("--py", action="store_true", help="install .py even when .mpy would load")
    p.add_argument("--port", type=int, help="the agent's TCP port (default 2018)")
    p.add_argument("--bind", help="address the agent listens on (default from mptui.toml)")
    p.add_argument("--pull", metavar="URL", help="pull mode: poll this http:// bundle folder")
    p.add_argument("--no-reset", action="store_true", help="do not reset the board afterwards")

    p = sub.add_parser("push", help="push the release (changed files only unless --full)")
    targets(p)
    p.add_argument("--full", action="store_true", help="send every file, changed or not")
    p.add_argument("--allow-downgrade", action="store_true",
                   help="let boards install this release even if they run a newer version")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress on stderr")

    p = sub.add_parser("status", help="agent and release versions")
    targets(p)

    p = sub.add_parser("bundle", help="write the release as a folder for pull mode")
    p.add_argument("-o", "--out", metavar="DIR", help="default: ota-bundle/ beside mptui.toml")
    p.add_argument("--mpy", type=int, metavar="MPY", help="compile for boards with this sys.implementation._mpy")
    p.add_argument("--allow-downgrade", action="store_true",
                   help="let boards install this release even if they run a newer version")

    p = sub.add_parser("serve", help="serve a bundle folder over HTTP for pull mode")
    p.add_argument("folder", nargs="?", help="default: build the bundle and serve it")
    p.add_argument("--host", default="127.0.0.1", help="default 127.0.0.1 (0.0.0.0: all interfaces)")
    p.add_argument("--port", type=int, default=8080)

    p = sub.add_parser("passwd", help="set a new OTA password on boards and in the secrets file")
    targets(p)
    p.add_argument("--generate", action="store_true", help="generate a random password")
    p.add_argument("--remove", action="store_true", help="no password from now on")

    p = sub.add_parser("rollback", help="restore the board's previous release")
    targets(p, all_ok=False)


def run(args) -> int:
    """A bad project is a usage error (2), an OTA failure a board error (1): as every
    MptuiError, shown by the command line's one handler."""
    return globals()["_" + args.ota_command](args) or OK


def _die(message: str, code: int) -> int:
    print(f"mptui: {message}", file=sys.stderr)
    return code


def _project(args):
    from mptui.services.ota.project import load_project

    return load_project(Path(args.project) if args.project else None)


def _targets(args, project=None) -> list[str]:
    from mptui.services.ota.project import ProjectError

    chosen = list(args.targets or [])
    if not chosen and getattr(args, "device", None):
        chosen = [args.device]
    if getattr(args, "all", False):
        if project is None or not project.boards:
            raise ProjectError("--all: no boards listed in [ota] boards of mptui.toml")
        chosen += [b for b in project.boards if b not in chosen]
    if not chosen:
        raise ProjectError("which board? give -d ADDRESS (repeatable) or --all")
    for target in chosen:  # a name that names no board is a usage error, before anything runs
        _resolver(args).resolve(target)
    return chosen


# -- init --------------------------------------------------------------------------------------

TEMPLATE = """
[ota]
version = "{version}"
source = "{source}"                  # the release folder
include = ["**"]
ignore = ["__pycache__/", "*.pyc", ".*"]
mpy = []                        # e.g. ["lib/**"]: compiled to .mpy when mpy-cross matches the board
boards = []                     # the fleet for --all: "ota://192.168.1.40", config names, /dev/ttyACM0
secrets = ".mptui-secrets.toml" # password and signing key: never commit this file

[ota.agent]                     # written to boards by `mptui ota install`
port = 2018
bind = "{bind}"{bind_note}
good_after = 30                 # seconds up before a new release counts as good
"""
BIND_LOOPBACK = "            # this board only (a virtual board); \"0.0.0.0\" to push over WiFi"
BIND_OPEN = "                # every network the board joins: anyone there can try the password"


def _init(args) -> int:
    import secrets as random

    from mptui.services.ota.project import PROJECT_FILE, Secrets, load_project

    root = Path(args.project).parent if args.project else Path.cwd()
    toml = root / PROJECT_FILE
    text = toml.read_text(encoding="utf-8") if toml.exists() else ""
    if "[ota]" in text:
        return _die(f"{toml} already has an [ota] table", USAGE)
    loopback = args.bind.startswith("127.") or args.bind in ("::1", "localhost")
    toml.write_text(text + TEMPLATE.format(version=args.release_version, source=args.source,
                                           bind=args.bind,
                                           bind_note=BIND_LOOPBACK if loopback else BIND_OPEN),
                    encoding="utf-8")
    made = [str(toml.name)]
    source = root / args.source
    if not source.exists():
        source.mkdir(parents=True)
        (source / "main.py").write_text(f"print('hello from release', {args.release_version!r})\n")
        made.append(f"{args.source}/main.py")
    project = load_project(toml)
    secrets = project.secrets or Secrets(root / ".mptui-secrets.toml")
    if not secrets.signing_key:
        secrets.signing_key = random.token_hex(32)
    if not secrets.password and not args.no_password:
        secrets.password = random.token_urlsafe(18)
    secrets.save()
    made.append(f"{secrets.path.name} (signing key{'' if args.no_password else ' and password'} "
                "generated; never printed)")
    _gitignore(root, secrets.path)
    print("created " + ", ".join(made))
    print("next: mptui ota install -d ADDRESS, then mptui ota push -d ADDRESS")
    return OK


def _gitignore(root: Path, secrets: Path) -> None:
    entry = "/" + secrets.relative_to(root).as_posix() if secrets.is_relative_to(root) else None
    if entry is None:
        return
    gi = root / ".gitignore"
    lines = gi.read_text(encoding="utf-8").splitlines() if gi.exists() else []
    if entry not in lines and entry.lstrip("/") not in lines:
        lines.append(entry)
        gi.write_text("\n".join(lines) + "\n", encoding="utf-8")


# -- install -----------------------------------------------------------------------------------


def _install(args) -> int:
    from mptui.commands.common import run_on_board
    from mptui.services.ota.install import board_settings, install
    from mptui.services.ota.project import ProjectError

    try:
        project = _project(args)
        agent, secrets = dict(project.agent), project.secrets
    except ProjectError:
        agent, secrets = {}, None  # no project: an agent with defaults, no password, no key
    for key in ("port", "bind", "pull"):
        if getattr(args, key) is not None:
            agent[key] = getattr(args, key)
    if args.targets:
        if len(args.targets) > 1:
            return _die("install: one board at a time (-d ADDRESS)", USAGE)
        args.device = args.targets[0]

    async def work(session):
        named = (_resolver(args).resolve(args.device).name or None) if args.device else None
        settings = board_settings(agent, session.address, named, keep_bind=args.bind is not None)
        result = await install(session, settings, secrets, use_mpy=False if args.py else None)
        form = ".mpy" if result.mpy else ".py"
        print(f"{session.address}: agent {result.agent_version} installed ({result.files} files "
              f"as {form}; boot.py hook {result.boot_py}; port {agent.get('port', 2018)}"
              f"{'; password set' if secrets and secrets.password else ''}"
              f"{'; signed releases only' if secrets and secrets.signing_key else ''})")
        if result.upgraded_from:
            print(f"{session.address}: upgraded from agent {result.upgraded_from}, which kept the "
                  "password hash and the project's signing key on the board; it now keeps only "
                  "keys of its own (boards still on 1.x need `mptui ota install` too)")
        for service in result.exposed or []:
            print(f"mptui: warning: {session.address}: the agent's {service} listens beyond the "
                  "board: anyone on its networks can connect and try the password", file=sys.stderr)
        if not args.no_reset:
            await session.hard_reset()
        return OK

    return run_on_board(args, work)


# -- push and status ---------------------------------------------------------------------------


def _push(args) -> int:
    from mptui.services.ota import push_fleet

    project = _project(args)
    targets = _targets(args, project)
    printer = _ProgressPrinter(enabled=not args.quiet)
    results = asyncio.run(push_fleet(targets, project, full=args.full, on_event=printer,
                                     allow_downgrade=args.allow_downgrade,
                                     resolver=_resolver(args)))
    _left_out(project)
    failed = 0
    for r in results:
        if args.json:
            import dataclasses
            import json

            print(json.dumps(dataclasses.asdict(r)))
        elif r.ok:
            what = "up to date" if r.up_to_date else \
                f"{r.files} file{'s' * (r.files != 1)}, {r.bytes / 1024:.1f} KB"
            print(f"{r.board}: ok {r.version} ({what}, {r.seconds:.1f} s)")
        else:
            print(f"{r.board}: FAILED: {r.error}")
        failed += not r.ok
    return BOARD_ERROR if failed else OK


def _left_out(project) -> None:
    """What the release left out that the user should hear of (secrets, links)."""
    for line in dict.fromkeys(project.warnings):
        print(f"mptui: warning: {line}", file=sys.stderr)


class _ProgressPrinter:
    """One stderr line per board and phase (not per byte)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.last: dict[str, str] = {}

    def __call__(self, ev) -> None:
        if not self.enabled or self.last.get(ev.board) == ev.phase:
            return
        self.last[ev.board] = ev.phase
        extra = ""
        if ev.phase == "transfer":
            extra = f" {ev.files_total} files, {ev.bytes_total / 1024:.1f} KB"
        elif ev.message:
            extra = f" {ev.message}"
        print(f"{ev.board}: {ev.phase}{extra}", file=sys.stderr)


def _status(args) -> int:
    from mptui.services.ota import status
    from mptui.services.ota.project import ProjectError

    try:
        project = _project(args)
    except ProjectError:
        project = None
    targets = _targets(args, project)
    secrets = project.secrets if project else None

    async def all_status():
        return await asyncio.gather(*(status(t, secrets, resolver=_resolver(args))
                                      for t in targets))

    failed = 0
    for s in asyncio.run(all_status()):
        if args.json:
            import json

            print(json.dumps({k: v for k, v in vars(s).items() if k != "info"}))
        elif not s.reachable:
            print(f"{s.board}: {s.error}")
        else:
            trial = "" if s.good else f", on trial ({s.unclean_boots} boot{'s' * (s.unclean_boots != 1)})"
            print(f"{s.board}: agent {s.agent}, release {s.release or 'none'}"
                  f"{f' (previous {s.previous})' if s.previous else ''}{trial}"
                  f"{f'; {s.last}' if s.last else ''}")
        failed += not s.reachable
    return BOARD_ERROR if failed else OK


# -- bundles -----------------------------------------------------------------------------------


def _bundle(args) -> int:
    from mptui.services.ota.serve import write_bundle

    project = _project(args)
    folder = Path(args.out) if args.out else project.root / "ota-bundle"
    info = write_bundle(project, folder, args.mpy, args.allow_downgrade)
    signed = f", signed for {info['boards']} board{'s' * (info['boards'] != 1)}" \
        if info["signed"] else ", NOT signed"
    _left_out(project)
    print(f"{folder}: release {info['version']}, {info['files']} files, "
          f"{info['bytes'] / 1024:.1f} KB{signed}")
    if info["signed"] and not info["boards"]:
        print("mptui: warning: no board has this project's keys yet (`mptui ota install` them "
              "first): no board will install this bundle", file=sys.stderr)
    return OK


def _serve(args) -> int:
    from mptui.services.ota.serve import BundleServer, write_bundle

    if args.folder:
        folder = Path(args.folder)
        if not (folder / "manifest.json").is_file():
            return _die(f"{folder}: no manifest.json (make one with `mptui ota bundle`)", USAGE)
    else:
        project = _project(args)
        folder = project.root / "ota-bundle"
        info = write_bundle(project, folder)
        print(f"bundle: release {info['version']}, {info['files']} files", file=sys.stderr)

    async def serve():
        server = await BundleServer(folder, args.host, args.port,
                                    log=lambda m: print(m, file=sys.stderr)).start()
        print(f"serving {folder} on http://{args.host}:{server.port}/ (Ctrl-C to stop)",
              file=sys.stderr)
        try:
            await server.serve_forever()
        finally:
            await server.stop()

    try:
        asyncio.run(serve())
    except OSError as e:
        return _die(f"cannot serve on {args.host}:{args.port}: {e.strerror or e}", BOARD_ERROR)
    return OK


# -- password and rollback --------------------------------------------------------------------


def _passwd(args) -> int:
    import getpass
    import secrets as random

    from mptui.services.ota import set_password

    project = _project(args)
    targets = _targets(args, project)
    if args.remove:
        new = ""
    elif args.generate:
        new = random.token_urlsafe(18)
    else:
        if not sys.stdin.isatty():
            return _die("passwd: no terminal to read a password from; use --generate", USAGE)
        new = getpass.getpass("new OTA password: ")
        if not new or getpass.getpass("again: ") != new:
            return _die("passwd: the passwords differ (or are empty); nothing changed", USAGE)
    secrets = project.secrets

    async def change():
        return await asyncio.gather(*(set_password(t, secrets, new, _resolver(args))
                                      for t in targets), return_exceptions=True)

    results = asyncio.run(change())
    failed = [t for t, r in zip(targets, results, strict=True) if r is not None]
    for t, r in zip(targets, results, strict=True):
        print(f"{t}: {'password changed' if r is None else f'FAILED: {r}'}")
    if len(failed) == len(targets):
        return BOARD_ERROR
    if failed and not secrets.previous_password:
        secrets.previous_password = secrets.password  # still needed for the boards that failed
    elif not failed:
        secrets.previous_password = ""
    secrets.password = new
    secrets.save()
    print(f"{secrets.path.name}: updated")
    if failed:
        print("mptui: the boards that failed keep their password; it stays in the secrets file "
              "as previous_password until `mptui ota passwd` reaches them", file=sys.stderr)
        return BOARD_ERROR
    return OK


def _rollback(args) -> int:
    from mptui.services.ota import make_link
    from mptui.services.ota.project import ProjectError

    try:
        project = _project(args)
    except ProjectError:
        project = None
    secrets = project.secrets if project else None
    failed = 0
    for target in _targets(args, project):

        async def one(target=target):
            link = make_link(target, secrets, resolver=_resolver(args))
            await link.open()
            try:
                return await link.rollback()
            finally:
                await link.close()

        from mptui.services.ota.links import OtaError

        try:
            version = asyncio.run(one())
            print(f"{target}: rolled back to {version if version != 'None' else 'no release'}; "
                  "rebooting")
        except OtaError as e:
            print(f"{target}: FAILED: {e}")
            failed += 1
    return BOARD_ERROR if failed else OK
