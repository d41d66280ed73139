"""Build `assets/reference/regions.csv` from python-stdnum's `stdnum/cn/loc.dat`.

loc.dat (GB/T 2260 address codes, from Wikipedia's code tables) is a two-level prefix file:

    33 province="浙江省"
      0302 county="[1983-1983]城区,[1984-]鹿城区"
      0321 county="[1981-1992]瓯海县"

A 2-digit province line, then 4-digit lines below it (province + these = the 6-digit code). `county` is
either a plain name (the code has always existed) or a comma list of `[start-end]name` entries, either
year may be empty (open). One CSV row per 6-digit code:

    code, name (latest), names (all, `|`-separated), province, level, first_year, last_year

first_year = the earliest start (empty if any entry is open at the start), last_year = the latest end (empty
if any entry is still current). Staging accepts a code unless last_year < the birth year (a code is never
rejected for being too new: people born before a code existed were assigned it when registered later).

The Wenzhou codes of shared/spec/feeds.md are then checked; a code missing from loc.dat is added with the
spec's years, and where the spec's years and loc.dat's differ the wider range is kept (loc.dat counts the
year of the change itself, in which births still received the old code; the spec gives the last whole
year). Run: `.venv/bin/python scripts/build_regions.py` (writes the file; `--check` compares instead).
"""

from __future__ import annotations

import argparse
import csv
import io
import re
import sys
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
OUT_PATH = PROJECT_ROOT / "assets" / "reference" / "regions.csv"
FIELDS = ("code", "name", "names", "province", "level", "first_year", "last_year")

# shared/spec/feeds.md, "Wenzhou county-level codes": code -> (name, first year, last year); None = open.
SPEC_WENZHOU: dict[str, tuple[str, int | None, int | None]] = {
    "330302": ("鹿城区", None, None),
    "330303": ("龙湾区", None, None),
    "330304": ("瓯海区", None, None),
    "330305": ("洞头区", None, None),
    "330324": ("永嘉县", None, None),
    "330326": ("平阳县", None, None),
    "330327": ("苍南县", None, None),
    "330328": ("文成县", None, None),
    "330329": ("泰顺县", None, None),
    "330381": ("瑞安市", None, None),
    "330382": ("乐清市", None, None),
    "330383": ("龙港市", 2019, None),
    "330322": ("洞头县", None, 2014),
    "330321": ("瓯海县", 1982, 1991),
    "330323": ("乐清县", None, 1992),
    "330325": ("瑞安县", None, 1986),
}

_LINE = re.compile(r'^(?P<indent> *)(?P<prefix>\d+)\s+(?P<props>.*)$')
_PROP = re.compile(r'(?P<key>[a-z]+)="(?P<value>[^"]*)"')
_ENTRY = re.compile(r"^\[(?P<start>\d*)-(?P<end>\d*)\](?P<name>.+)$")


@dataclass
class Region:
    """One 6-digit address code and the years it was in use (None = open)."""

    code: str
    names: list[str]
    province: str
    first_year: int | None
    last_year: int | None

    @property
    def level(self) -> str:
        if self.code.endswith("0000"):
            return "province"
        if self.code.endswith("00"):
            return "prefecture"
        return "county"

    def row(self) -> dict[str, str]:
        return {
            "code": self.code,
            "name": self.names[-1],
            "names": "|".join(dict.fromkeys(self.names)),
            "province": self.province,
            "level": self.level,
            "first_year": "" if self.first_year is None else str(self.first_year),
            "last_year": "" if self.last_year is None else str(self.last_year),
        }


def _years(county: str) -> tuple[list[str], int | None, int | None]:
    """Names and the (first, last) year span of a loc.dat `county` value."""
    if not county.startswith("["):
        return [county], None, None
    names: list[str] = []
    starts: list[int | None] = []
    ends: list[int | None] = []
    for part in county.split(","):
        m = _ENTRY.match(part)
        if m is None:
            raise ValueError(f"unexpected loc.dat county entry {part!r}")
        names.append(m["name"])
        starts.append(int(m["start"]) if m["start"] else None)
        ends.append(int(m["end"]) if m["end"] else None)
    first = None if None in starts else min(s for s in starts if s is not None)
    last = None if None in ends else max(e for e in ends if e is not None)
    return names, first, last


def parse_loc_dat(text: str) -> dict[str, Region]:
    """All 6-digit codes of loc.dat."""
    regions: dict[str, Region] = {}
    province_code, province_name = "", ""
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        m = _LINE.match(line)
        if m is None:
            raise ValueError(f"unexpected loc.dat line {line!r}")
        props = {p["key"]: p["value"] for p in _PROP.finditer(m["props"])}
        if not m["indent"]:
            province_code, province_name = m["prefix"], props.get("province", "")
            continue
        code = province_code + m["prefix"]
        if len(code) != 6 or "county" not in props:
            raise ValueError(f"unexpected loc.dat entry {line!r}")
        names, first, last = _years(props["county"])
        regions[code] = Region(code, names, province_name, first, last)
    return regions


def _widen(a: int | None, b: int | None, pick: type[min] | type[max]) -> int | None:
    return None if a is None or b is None else pick(a, b)


def apply_spec(regions: dict[str, Region]) -> list[str]:
    """Make sure every spec Wenzhou code is present with at least the spec's years; returns notes."""
    notes: list[str] = []
    for code, (name, first, last) in SPEC_WENZHOU.items():
        region = regions.get(code)
        if region is None:
            regions[code] = Region(code, [name], "浙江省", first, last)
            notes.append(f"{code} {name}: added from the spec ({first}-{last})")
            continue
        if name not in region.names:
            region.names.append(name)
        new_first = _widen(region.first_year, first, min) if first is not None else region.first_year
        new_last = _widen(region.last_year, last, max)
        if (first is not None and first != region.first_year) or last != region.last_year:
            notes.append(
                f"{code} {name}: loc.dat {region.first_year}-{region.last_year}, spec {first}-{last},"
                f" kept {new_first}-{new_last}"
            )
        region.first_year, region.last_year = new_first, new_last
    return notes


def build() -> tuple[str, list[str]]:
    """The CSV text and notes on the spec overlay."""
    text = resources.files("stdnum").joinpath("cn/loc.dat").read_text(encoding="utf-8")
    regions = parse_loc_dat(text)
    notes = apply_spec(regions)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=FIELDS, lineterminator="\n")
    writer.writeheader()
    for code in sorted(regions):
        writer.writerow(regions[code].row())
    return out.getvalue(), notes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the file differs from a fresh build")
    args = parser.parse_args(argv)
    text, notes = build()
    for note in notes:
        print(note)
    if args.check:
        current = OUT_PATH.read_text(encoding="utf-8") if OUT_PATH.exists() else ""
        if current != text:
            print(f"{OUT_PATH} is out of date; run scripts/build_regions.py", file=sys.stderr)
            return 1
        return 0
    OUT_PATH.parent.mkdir(parents=True, exist_ok=True)
    OUT_PATH.write_text(text, encoding="utf-8")
    print(f"wrote {OUT_PATH} ({text.count(chr(10)) - 1} codes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
