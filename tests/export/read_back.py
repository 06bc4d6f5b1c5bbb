#!/usr/bin/env python3
"""Independent readers for the export tests: Python's own csv, json and html.parser.

  read_back.py csv FILE SEP     -> the rows as a JSON list of lists (a leading BOM is noted)
  read_back.py jsonl FILE       -> the lines as a JSON list of objects
  read_back.py html FILE        -> "ok", or the first problem: unbalanced or stray tags,
                                   a remote resource, a script
  read_back.py xlsx FILE        -> the workbook as Python's zipfile and xml.etree read it:
                                   {"sheets": [{"name", "frozen_rows", "widths": [...],
                                   "rows": [[cell, ...], ...]}]}, a cell being null (empty),
                                   {"t": "s", "v": text} (shared or inline string),
                                   {"t": "n", "v": number}, {"t": "date", "v":
                                   "YYYY-MM-DD HH:MM:SS"} (a number with a date style), or
                                   {"t": "f"...} / {"t": "b"...} / {"t": "e"...} (formula,
                                   boolean, error: never expected)
"""
import csv
import io
import json
import re
import sys
import zipfile
import datetime
import xml.etree.ElementTree as ET
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


NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
      "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships"}
REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"


def text_of(node):
    """The text of a <si> or <is>: its <t>, or its rich-text runs' <t>s joined."""
    return "".join(t.text or "" for t in node.iter(f"{{{NS['m']}}}t"))


def column_index(ref):
    letters = re.match(r"[A-Z]+", ref).group(0)
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1


def read_xlsx(path):
    z = zipfile.ZipFile(path)
    shared = []
    if "xl/sharedStrings.xml" in z.namelist():
        shared = [text_of(si) for si in ET.fromstring(z.read("xl/sharedStrings.xml")).findall("m:si", NS)]
    styles = ET.fromstring(z.read("xl/styles.xml"))
    custom = {int(f.get("numFmtId")): f.get("formatCode") for f in styles.findall("m:numFmts/m:numFmt", NS)}
    xfs = [int(x.get("numFmtId", "0")) for x in styles.findall("m:cellXfs/m:xf", NS)]

    def is_date(style):
        fmt = xfs[style] if style < len(xfs) else 0
        if 14 <= fmt <= 22 or 45 <= fmt <= 47:
            return True
        code = re.sub(r'"[^"]*"|\\.|\[[^]]*\]', "", custom.get(fmt, ""))
        return bool(re.search(r"[ymdhs]", code, re.I))

    rels = {r.get("Id"): r.get("Target") for r in ET.fromstring(z.read("xl/_rels/workbook.xml.rels"))}
    sheets = []
    for sh in ET.fromstring(z.read("xl/workbook.xml")).findall("m:sheets/m:sheet", NS):
        target = rels[sh.get(REL)]
        ws = ET.fromstring(z.read("xl/" + target.lstrip("/").removeprefix("xl/")))
        pane = ws.find("m:sheetViews/m:sheetView/m:pane", NS)
        frozen = int(float(pane.get("ySplit", "0"))) if pane is not None and pane.get("state") == "frozen" else 0
        widths = {}
        for col in ws.findall("m:cols/m:col", NS):
            for i in range(int(col.get("min")), int(col.get("max")) + 1):
                widths[i - 1] = float(col.get("width"))
        rows = []
        for row in ws.findall("m:sheetData/m:row", NS):
            r = int(row.get("r")) - 1
            while len(rows) < r:
                rows.append([])
            cells = []
            for c in row.findall("m:c", NS):
                i = column_index(c.get("r"))
                while len(cells) < i:
                    cells.append(None)
                t, v, f = c.get("t", "n"), c.find("m:v", NS), c.find("m:f", NS)
                if f is not None:
                    cell = {"t": "f", "v": f.text}
                elif t == "s":
                    cell = {"t": "s", "v": shared[int(v.text)]}
                elif t == "inlineStr":
                    cell = {"t": "s", "v": text_of(c.find("m:is", NS))}
                elif t == "n":
                    if v is None:
                        cell = None
                    elif is_date(int(c.get("s", "0"))):
                        when = datetime.datetime(1899, 12, 30) + datetime.timedelta(days=float(v.text))
                        when = (when + datetime.timedelta(microseconds=500_000)).replace(microsecond=0)
                        cell = {"t": "date", "v": when.strftime("%Y-%m-%d %H:%M:%S")}
                    else:
                        num = float(v.text)
                        cell = {"t": "n", "v": int(num) if num.is_integer() else num}
                else:
                    cell = {"t": t, "v": v.text if v is not None else None}
                cells.append(cell)
            rows.append(cells)
        sheets.append({"name": sh.get("name"), "frozen_rows": frozen,
                       "widths": [widths.get(i, 0) for i in range(max(widths) + 1 if widths else 0)], "rows": rows})
    return {"sheets": sheets}


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
    elif kind == "xlsx":
        json.dump(read_xlsx(path), sys.stdout, ensure_ascii=False)
    else:
        sys.exit("unknown kind " + kind)


if __name__ == "__main__":
    main()
