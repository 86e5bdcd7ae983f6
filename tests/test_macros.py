"""The config's [commands]: shortcuts and macros with parameters, expanded as mpremote expands
its own; listed in --help, checked by `config check`, run from the command line."""

from __future__ import annotations

import pytest
from helpers import run_cli

from mptui.macros import BadMacro, MacroError, expand, parse_macros, split


def macros(**table):
    return parse_macros(table)


def test_a_string_is_split_as_a_shell_would_and_plus_separates_commands():
    m = macros(boot="soft-reset + exec 'import main'", l=["ls", "-l"])
    assert m["boot"].words == ("soft-reset", "+", "exec", "import main")
    assert expand([["boot"]], m) == [["soft-reset"], ["exec", "import main"]]
    # the words after a shortcut go on at the end of its (last) command, as mpremote's do
    assert expand([["l", "/lib"], ["eval", "1"]], m) == [["ls", "-l", "/lib"], ["eval", "1"]]


def test_parameters_by_name_in_order_and_from_defaults():
    m = macros(led={"run": "exec 'pin({pin}).value({value})'", "help": "an LED",
                    "defaults": {"value": 1}})
    assert m["led"].params == ["pin", "value"]
    assert m["led"].signature == "led pin [value=1]"
    assert expand([["led", "5"]], m) == [["exec", "pin(5).value(1)"]]
    assert expand([["led", "5", "0"]], m) == [["exec", "pin(5).value(0)"]]
    assert expand([["led", "value=0", "pin=2"]], m) == [["exec", "pin(2).value(0)"]]
    assert expand([["led", "value=0", "3"]], m) == [["exec", "pin(3).value(0)"]]
    with pytest.raises(MacroError, match=r"led: missing pin \(usage: mptui led pin \[value=1\]\)"):
        expand([["led"]], m)


def test_a_value_stays_one_word_and_r_quotes_it_for_board_code():
    m = macros(say="exec 'print({text!r}, {{text}})'", put="cp {src} :{dst}")
    assert expand([["say", "it's \"odd\"; import os"]], m) == [
        ["exec", "print('it\\'s \"odd\"; import os', {text})"]]
    assert expand([["put", "my file.py", "a b.py"]], m) == [["cp", "my file.py", ":a b.py"]]


def test_macros_use_macros_but_not_themselves():
    m = macros(a="b + eval 1", b="exec 'x=1'", c="c", d="e", e="d")
    assert expand([["a"]], m) == [["exec", "x=1"], ["eval", "1"]]
    with pytest.raises(MacroError, match="uses itself"):
        expand([["c"]], m)
    with pytest.raises(MacroError, match=r"d -> e -> d"):
        expand([["d"]], m)


@pytest.mark.parametrize("table,said", [
    ({"a b": "ls"}, "a name is letters"),
    ({"x": ""}, "an empty command"),
    ({"x": "+ ls"}, "an empty command"),
    ({"x": "exec 'unclosed"}, "No closing quotation"),
    ({"x": 5}, "must be a command line"),
    ({"x": {"run": "ls", "nope": 1}}, "unknown key 'nope'"),
    ({"x": {"run": "ls", "help": 3}}, "'help' must be a string"),
    ({"x": {"run": "ls {a}", "defaults": {"b": "1"}}}, "a default for 'b'"),
    ({"x": {"run": "ls", "defaults": {"b": True}}}, "'defaults' must map"),
])
def test_malformed_entries_are_one_line_errors(table, said):
    with pytest.raises(BadMacro, match=said) as e:
        parse_macros(table)
    assert "\n" not in str(e.value)  # one line, as the name says


def test_split_drops_empty_commands():
    assert split(["+", "a", "+", "+", "b", "c", "+"]) == [["a"], ["b", "c"]]


CONFIG = """\
[commands]
hello = "exec \\"print('hello from a macro')\\""
seven = "exec 'a=7' + eval 'a*{times}'"
ls = "ls -r"
[commands.led]
run = "exec 'print({pin!r}, {value})'"
help = "switch an LED"
defaults = { value = "1" }
"""


@pytest.fixture
def config_file(isolated_env):
    path = isolated_env / "config.toml"
    path.write_text(CONFIG)
    return path


def test_macros_run_from_the_command_line(config_file):
    done = run_cli("-d", "virtual:mac", "led", "5")
    assert (done.returncode, done.stdout) == (0, b"5 1\r\n"), done.stderr
    done = run_cli("-d", "virtual:mac", "seven", "6", "+", "hello")
    assert (done.returncode, done.stdout) == (0, b"42\r\nhello from a macro\r\n"), done.stderr
    done = run_cli("-d", "virtual:mac", "led")
    assert done.returncode == 2 and b"missing pin" in done.stderr
    # a macro named as a built-in command does not replace it
    done = run_cli("-d", "virtual:mac", "ls", "/")
    assert done.returncode == 0 and done.stdout == b""


def test_macros_are_listed_in_help(config_file):
    done = run_cli("--help")
    text = done.stdout.decode()
    assert "led                 [commands] switch an LED (mptui led pin [value=1])" in text
    assert "hello               [commands] exec \"print('hello from a macro')\"" in text
    assert "joined by '+'" in text


def test_config_check_finds_macros_that_cannot_run(config_file):
    extra = 'typo = "exce 1"\nbadchain = "exec 1 + logs"\nloop = "loop"\n'
    config_file.write_text(CONFIG.replace("[commands.led]", extra + "[commands.led]"))
    done = run_cli("config", "check")
    lines = done.stderr.decode().splitlines()
    assert done.returncode == 1
    assert lines[0].endswith("line 6: [commands] 'badchain': logs cannot be part of a "
                             "chain ('+'); chainable: bootloader, cat, connect, cp, df, "
                             "disconnect, eval, exec, ls, mkdir, mount, repl, reset, resume, "
                             "rm, rmdir, rtc, run, sha256sum, sleep, soft-reset, sync, touch, "
                             "tree, umount")
    assert lines[1].endswith("line 7: [commands] 'loop': macro 'loop' uses itself (loop -> "
                             "loop)")
    assert lines[2].endswith("line 4: [commands] 'ls': 'ls' is a built-in command (the "
                             "built-in one runs)")
    assert "line 5: [commands] 'typo': argument COMMAND: invalid choice: 'exce'" in lines[3]
    assert len(lines) == 4
    config_file.write_text(CONFIG.replace('ls = "ls -r"\n', ""))
    done = run_cli("config", "check")
    assert done.returncode == 0, done.stderr


def test_a_malformed_commands_table_is_a_config_error(config_file):
    config_file.write_text('[commands]\nx = 5\n')
    done = run_cli("config", "check")
    assert done.returncode == 1
    assert done.stderr.decode().strip().endswith(
        "line 1: [commands] 'x' must be a command line (a string or a list of words), or a "
        "table with 'run'")
