#!/usr/bin/env python3
"""Independent readers for the export tests: Python's own csv, json and html.parser.

  read_back.py csv FILE SEP     -> the rows as a JSON list of lists (a leading BOM is noted)
  read_back.py jsonl FILE       -> the lines as a JSON list of objects
  read_back.py html FILE        -> "ok", or the first problem: unbalanced or stray tags,
                                   a remote resource, a script
"""
import csv
import io
import json
import sys
from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
# SVG elements may close themselves (<rect/>); HTML ones that are not void may not.
SVG = {"svg", "defs", "pattern", "rect", "line", "text", "g", "path", "circle", "title"}


class Strict(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack = []
        self.problem = None

    def fail(self, what):
        if self.problem is None:
            self.problem = f"line {self.getpos()[0]}: {what}"

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("src", "href") and value and not value.startswith(("#", "data:")):
                self.fail(f"<{tag}> loads {value}")
        if tag == "script":
            self.fail("a <script>")
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        if tag not in VOID and tag not in SVG:
            self.fail(f"<{tag}/> is not a void element")

    def handle_endtag(self, tag):
        if tag in VOID:
            self.fail(f"</{tag}> closes a void element")
        elif not self.stack or self.stack[-1] != tag:
            self.fail(f"</{tag}> but open is {self.stack[-1] if self.stack else 'nothing'}")
        else:
            self.stack.pop()


def main():
    kind, path = sys.argv[1], sys.argv[2]
    if kind == "csv":
        with open(path, newline="", encoding="utf-8") as f:
            text = f.read()
        bom = text.startswith("\ufeff")
        rows = list(csv.reader(io.StringIO(text[1:] if bom else text, newline=""), delimiter=sys.argv[3], strict=True))
        json.dump({"bom": bom, "rows": rows}, sys.stdout, ensure_ascii=False)
    elif kind == "jsonl":
        with open(path, encoding="utf-8") as f:
            json.dump([json.loads(line) for line in f], sys.stdout, ensure_ascii=False)
    elif kind == "html":
        with open(path, encoding="utf-8") as f:
            p = Strict()
            p.feed(f.read())
            p.close()
        if p.problem is None and p.stack:
            p.problem = "not closed: " + " ".join(p.stack)
        print(p.problem or "ok")
    else:
        sys.exit("unknown kind " + kind)


if __name__ == "__main__":
    main()
