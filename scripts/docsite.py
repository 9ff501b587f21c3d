#!/usr/bin/env python3
# Copyright: (c) 2026, imagicle.proactive contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Writes the collection's user guides (docs/docsite/rst/*.rst and docs/docsite/extra-docs.yml)
from the project's user guides (docs/*.md, and the collection's docs/facts-schema.md), so the
guides have one source: the Markdown. Run it after editing a guide, and commit what it writes:

    .venv/bin/python scripts/docsite.py            # writes into the collection
    .venv/bin/python scripts/docsite.py --out DIR  # writes DIR/extra-docs.yml and DIR/rst/

Markdown goes through pandoc (the pypandoc_binary package, requirements-test.txt) as a document
tree that is rewritten before it is written as reStructuredText:
- a link to another guide (``cases.md``, ``cases.md#failing-loudly``, ``#a-section``) becomes a
  cross reference to its label, ``ansible_collections.imagicle.proactive.docsite.<guide>`` (and
  ``.<section id>`` for a section); every section carries such a label;
- a link to a file of the project's repository that is not a guide (examples/, inventories/,
  tests/, ...) becomes its text: the collection does not ship that file;
- ``docs/<guide>.md`` named in the text becomes a cross reference too, and an operator playbook
  ``playbooks/<name>.yml`` becomes the collection playbook ``imagicle.proactive.<name>``.
"""

from __future__ import annotations

import argparse
import json
import os
import posixpath
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLLECTION = "collections/ansible_collections/imagicle/proactive"
LABEL = "ansible_collections.imagicle.proactive.docsite."

# (source, name): the guides in the order of the collection's docs. A user guide added to docs/
# is added here; developer pages (DESIGN, benchmarks, domain, scenarios) are not user guides.
GUIDES = [
    ("docs/running.md", "running"),
    ("docs/inventory.md", "inventory"),
    ("docs/alarms.md", "alarms"),
    ("docs/sla.md", "sla"),
    ("docs/cases.md", "cases"),
    ("docs/backends.md", "backends"),
    ("docs/paging.md", "paging"),
    ("docs/mail.md", "mail"),
    ("docs/state-store.md", "state_store"),
    ("docs/scheduling.md", "scheduling"),
    ("docs/scale.md", "scale"),
    ("docs/awx.md", "awx"),
    (COLLECTION + "/docs/facts-schema.md", "facts_schema"),
]
GUIDE_BY_SOURCE = dict(GUIDES)
# The pages of docs/ that are about the project rather than for its users.
DEVELOPER_PAGES = ("docs/DESIGN.md", "docs/benchmarks.md", "docs/domain.md", "docs/scenarios.md")
# The operator playbooks, shipped as collection playbooks imagicle.proactive.<name>.
OPERATOR_PLAYBOOKS = ("proactive_check", "cases", "silence", "explain", "outbox")

# Sections about how the project tests and measures itself stay in the repository's guides.
DEVELOPER_SECTIONS = re.compile(r"^(Tests|Speed|The simulated AppSuite that the test bed runs)$")

PLAYBOOK_PATH = re.compile(r"(?:\.\./)?playbooks/(%s)\.yml\b" % "|".join(OPERATOR_PLAYBOOKS))
GUIDE_PATH = re.compile(r"(?:\.\./)?docs/([a-z][a-z-]*)\.md\b")

HEADER = """\
..
  This page is generated from the project's user guide "{name}"; edit the guide, not this
  page.

"""
# A path of the project's repository that the collection does not ship (the guides also describe
# the project around the collection: its examples, AWX configuration and tests).
REPOSITORY_PATH = re.compile(r"(?<![\w./-])(?:(?:examples|inventories|scripts|tests|awx|playbooks)/|"
                             r"collections/requirements\.yml)")
REPOSITORY_NOTE = """
.. note::

   Paths such as ``examples/``, ``inventories/``, ``scripts/`` or ``tests/`` named on this page are
   files of the project's source repository around the collection (its examples, AWX configuration
   and tests), not of the collection.
"""


def pandoc():
    try:
        import pypandoc  # pylint: disable=import-outside-toplevel
    except ImportError:
        sys.exit("docsite: pypandoc is missing; install requirements-test.txt "
                 "(.venv/bin/pip install -r requirements-test.txt)")
    return pypandoc


def anchor_label(name: str, anchor: str = "") -> str:
    return LABEL + name + ("." + anchor if anchor else "")


def plain(inlines: list) -> str:
    """The text of a list of pandoc inlines."""
    out = []
    for node in inlines:
        kind, content = node["t"], node.get("c")
        if kind == "Str":
            out.append(content)
        elif kind in ("Space", "SoftBreak", "LineBreak"):
            out.append(" ")
        elif kind in ("Code", "Math", "RawInline"):
            out.append(content[1])
        elif kind in ("Emph", "Strong", "Strikeout", "Underline", "SmallCaps", "Superscript", "Subscript"):
            out.append(plain(content))
        elif kind in ("Link", "Image", "Span", "Quoted", "Cite"):
            out.append(plain(content[1]))
    return "".join(out)


def ref(label: str, text: str = "") -> dict:
    text = text.replace("`", "'").replace("<", "\\<")
    role = ":ref:`%s <%s>`" % (text, label) if text else ":ref:`%s`" % label
    return {"t": "RawInline", "c": ["rst", role]}


def guide_of(target: str, source: str):
    """(guide name, anchor) of a link target written in source, or None when it is no guide."""
    path, _, anchor = target.partition("#")
    if not path:
        return GUIDE_BY_SOURCE[source], anchor
    resolved = posixpath.normpath(posixpath.join(posixpath.dirname(source), path))
    if resolved in GUIDE_BY_SOURCE:
        return GUIDE_BY_SOURCE[resolved], anchor
    return None


def rewrite_text(text: str) -> str:
    """Repository paths named in code or text, as the collection user sees them."""
    return PLAYBOOK_PATH.sub(r"imagicle.proactive.\1", text)


def parse(source: str) -> dict:
    """The pandoc tree of a guide, without its developer sections."""
    with open(os.path.join(ROOT, source), encoding="utf-8") as handle:
        markdown = handle.read()
    tree = json.loads(pandoc().convert_text(markdown, "json", format="gfm"))
    blocks, dropping = [], None
    for block in tree["blocks"]:
        if block["t"] == "Header":
            level = block["c"][0]
            if dropping is not None and level <= dropping:
                dropping = None
            if dropping is None and DEVELOPER_SECTIONS.match(plain(block["c"][2])):
                dropping = level
        if dropping is None:
            blocks.append(block)
    tree["blocks"] = blocks
    return tree


def sections(tree: dict) -> set:
    return {block["c"][1][0] for block in tree["blocks"] if block["t"] == "Header"}


def parses(classes: list, code: str) -> bool:
    """Whether a code block parses in its language (the checker of the docs parses them)."""
    language = classes[0] if classes else ""
    try:
        if language in ("python", "py"):
            compile(code, "<guide>", "exec")
        elif language in ("yaml", "yml"):
            import yaml  # pylint: disable=import-outside-toplevel
            list(yaml.safe_load_all(code))
        elif language == "json":
            json.loads(code)
        elif language == "ini":
            import configparser  # pylint: disable=import-outside-toplevel
            configparser.ConfigParser(interpolation=None).read_string(code)
    except Exception:  # pylint: disable=broad-except
        return False
    return True


class Converter:
    def __init__(self, source: str, anchors: dict):
        self.source = source
        self.anchors = anchors  # guide name: its section ids
        self.name = GUIDE_BY_SOURCE[source]
        self.titled = False

    def guide_ref(self, match: re.Match):
        source = "docs/%s.md" % match.group(1)
        if source in GUIDE_BY_SOURCE:
            return ref(anchor_label(GUIDE_BY_SOURCE[source]))
        return None

    def inline_str(self, text: str) -> list:
        """A Str node, with docs/<guide>.md turned into a cross reference."""
        out, at = [], 0
        for match in GUIDE_PATH.finditer(text):
            node = self.guide_ref(match)
            if node is None:
                continue
            if match.start() > at:
                out.append({"t": "Str", "c": rewrite_text(text[at:match.start()])})
            out.append(node)
            at = match.end()
        if at < len(text):
            out.append({"t": "Str", "c": rewrite_text(text[at:])})
        return out

    def link(self, node: dict) -> list:
        _attr, inlines, (target, _title) = node["c"]
        inlines = self.inlines(inlines)
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # https:, mailto:
            node["c"][1] = inlines
            return [node]
        guide = guide_of(target, self.source)
        if guide is None:  # a file of the repository that the collection does not ship
            return inlines
        name, anchor = guide
        if anchor and anchor not in self.anchors[name]:
            return inlines  # a section that only the repository's guide has
        text = plain(inlines)
        if text.endswith(".md") or re.fullmatch(r"[\w./-]+\.md(#[\w-]*)?", text):
            text = ""  # the file name as the text: the guide's title reads better
        return [ref(anchor_label(name, anchor), text)]

    def inlines(self, inlines: list) -> list:
        out = []
        for node in inlines:
            kind = node["t"]
            if kind == "Link":
                out.extend(self.link(node))
            elif kind == "Str":
                out.extend(self.inline_str(node["c"]))
            elif kind == "Code":
                match = GUIDE_PATH.fullmatch(node["c"][1])
                guide = self.guide_ref(match) if match else None
                if guide is not None:
                    out.append(guide)
                else:
                    node["c"][1] = rewrite_text(node["c"][1])
                    out.append(node)
            elif kind in ("Emph", "Strong", "Strikeout", "Underline", "SmallCaps", "Superscript", "Subscript"):
                node["c"] = self.inlines(node["c"])
                out.append(node)
            elif kind in ("Span", "Quoted"):
                node["c"][1] = self.inlines(node["c"][1])
                out.append(node)
            else:
                out.append(node)
        return out

    def walk(self, value):
        """Rewrites every list of inlines or blocks below value, in place."""
        if isinstance(value, list):
            if value and all(isinstance(item, dict) and "t" in item for item in value):
                kinds = {item["t"] for item in value}
                if kinds & {"Str", "Space", "Code", "Link", "Emph", "Strong", "SoftBreak"}:
                    return self.inlines([self.walk_children(item) for item in value])
                return self.blocks(value)
            return [self.walk(item) for item in value]
        if isinstance(value, dict):
            return self.walk_children(value)
        return value

    def walk_children(self, node: dict) -> dict:
        if node.get("t") == "CodeBlock":
            node["c"][1] = rewrite_text(node["c"][1])
        elif "c" in node and node.get("t") not in ("Link",):
            node["c"] = self.walk(node["c"])
        return node

    def blocks(self, blocks: list) -> list:
        out = []
        for block in blocks:
            block = self.walk_children(block)
            if block["t"] == "Header":
                level, (ident, _classes, _attrs), _ = block["c"]
                if level == 1 and not self.titled:
                    label = anchor_label(self.name)
                    self.titled = True
                else:
                    label = anchor_label(self.name, ident)
                block["c"][1] = ["", [], []]  # the label is the section's only target
                out.append({"t": "RawBlock", "c": ["rst", ".. _%s:" % label]})
            elif block["t"] == "CodeBlock" and not parses(block["c"][0][1], block["c"][1]):
                block["c"][0][1] = []  # a sketch ("...") is shown as it is, not checked as code
            out.append(block)
        return out


def convert(source: str, tree: dict, anchors: dict) -> str:
    pypandoc = pandoc()
    converter = Converter(source, anchors)
    tree["blocks"] = converter.blocks(tree["blocks"])
    if not converter.titled:
        raise SystemExit("docsite: %s has no title (a first-level '# ' heading)" % source)
    rst = pypandoc.convert_text(json.dumps(tree), "rst", format="json",
                                extra_args=["--wrap=preserve", "--columns=100"])
    # pandoc writes a raw block right above the next one: a label needs a blank line after it.
    rst = re.sub(r"^(\.\. _%s[^\n]*:)\n(?!\n)" % re.escape(LABEL), "\\1\n\n", rst, flags=re.M)
    if REPOSITORY_PATH.search(rst):  # after the title
        title_end = re.search(r"^=+\n", rst, flags=re.M).end()
        rst = rst[:title_end] + REPOSITORY_NOTE + rst[title_end:]
    return HEADER.format(name=converter.name) + rst.rstrip("\n") + "\n"


def extra_docs() -> str:
    lines = [
        "---",
        "# Generated from the project's user guides: edit the guides, not this file.",
        "sections:",
        "  - title: Guides",
        "    toctree:",
    ]
    lines += ["      - %s" % name for _source, name in GUIDES]
    return "\n".join(lines) + "\n"


def generate(out: str) -> list:
    """Writes extra-docs.yml and rst/*.rst into out; returns the paths written."""
    os.makedirs(os.path.join(out, "rst"), exist_ok=True)
    trees = {source: parse(source) for source, _name in GUIDES}
    anchors = {name: sections(trees[source]) for source, name in GUIDES}
    written = []
    for source, name in GUIDES:
        path = os.path.join(out, "rst", name + ".rst")
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(convert(source, trees[source], anchors))
        written.append(path)
    path = os.path.join(out, "extra-docs.yml")
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(extra_docs())
    written.append(path)
    # A guide dropped from GUIDES leaves no page behind.
    for stale in sorted(os.listdir(os.path.join(out, "rst"))):
        if stale.endswith(".rst") and os.path.join(out, "rst", stale) not in written:
            os.remove(os.path.join(out, "rst", stale))
    return written


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--out", default=os.path.join(ROOT, COLLECTION, "docs", "docsite"),
                        help="the folder of extra-docs.yml and rst/ (default: the collection's docs/docsite)")
    args = parser.parse_args(argv)
    for path in generate(args.out):
        print("docsite: wrote %s" % os.path.relpath(path, os.getcwd()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
