"""The command line's help texts are also the command-line reference page.

sphinx-argparse renders every description, option help and epilog of
:func:`sk_clustermass.cli.build_parser` as reStructuredText on ``docs/cli.md``: the
texts must parse without docutils errors, the examples must be literal blocks (code
you can copy) of commands the parser accepts, and every default must be in the help
(the page leaves out sphinx-argparse's own "Default:" line, which repeated it).
"""

from __future__ import annotations

import argparse
import shlex

import pytest

from sk_clustermass.cli import build_parser

docutils_core = pytest.importorskip("docutils.core")
from docutils import nodes  # noqa: E402  (after the importorskip above)


def _parsers():
    """(name, parser) of the program and of every sub-command."""
    root = build_parser()
    found = [("sk-clustermass", root)]
    for action in root._actions:
        if isinstance(action, argparse._SubParsersAction):
            found += sorted(action.choices.items())
    return found


def _shown_actions(parser):
    for action in parser._actions:
        if action.help == argparse.SUPPRESS or isinstance(
                action, argparse._HelpAction | argparse._VersionAction
                | argparse._SubParsersAction):
            continue
        yield action


def _doctree(text: str):
    """The text parsed as reST; any docutils message of level WARNING or above raises."""
    return docutils_core.publish_doctree(text, settings_overrides={
        "halt_level": 2, "report_level": 2, "warning_stream": False})


def _texts():
    for name, parser in _parsers():
        yield f"{name}: description", parser.description or ""
        yield f"{name}: epilog", parser.epilog or ""
        for action in _shown_actions(parser):
            yield f"{name} {'/'.join(action.option_strings) or action.dest}", action.help or ""


@pytest.mark.parametrize(("where", "text"),
                         [pytest.param(where, text, id=where) for where, text in _texts()])
def test_help_text_is_restructuredtext_without_errors(where, text):
    _doctree(text)  # raises docutils.utils.SystemMessage on the first warning or error


def _example_blocks(parser):
    tree = _doctree(parser.epilog or "")
    return [block.astext() for block in tree.findall(nodes.literal_block)]


@pytest.mark.parametrize(("name", "parser"),
                         [pytest.param(name, parser, id=name) for name, parser in _parsers()])
def test_examples_are_code_blocks_of_commands_the_parser_accepts(name, parser):
    blocks = _example_blocks(parser)
    assert blocks, f"{name}: the epilog has no literal block of examples"
    commands = blocks[0].replace("\\\n", " ").splitlines()
    assert commands and all(line.startswith("sk-clustermass ") for line in commands)
    for line in commands:
        argv = shlex.split(line, comments=True)[1:]
        if "COMMAND" in argv:  # the placeholder of the program's own epilog
            continue
        build_parser().parse_args(argv)  # exits with code 2 on an invalid example


def test_the_terminal_shows_examples_with_one_colon(capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["train", "--help"])
    text = capsys.readouterr().out
    assert "\nexamples:\n  sk-clustermass train " in text
    assert "::" not in text


@pytest.mark.parametrize(("name", "parser"),
                         [pytest.param(name, parser, id=name) for name, parser in _parsers()])
def test_every_default_is_in_the_help(name, parser):
    for action in _shown_actions(parser):
        default = action.default
        if default in (None, False, argparse.SUPPRESS) or (
                isinstance(action, argparse._CountAction) and default == 0):
            continue
        assert "default" in (action.help or ""), (
            f"{name} {action.option_strings}: the help does not state the default {default!r}")
