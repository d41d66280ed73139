"""Tiny spec-shaped deliveries for tests (shared/spec/feeds.md, "Delivery layout").

Typical use::

    from tests.fixture_deliveries import citizen_id, sample_row, write_delivery

    rows = [sample_row("hukou"), sample_row("hukou", XM="李四", GMSFHM=citizen_id(seq="124"))]
    folder = write_delivery(tmp_path / "landing", "hukou", "20261031", rows)

Rows are dicts keyed by the feed's delivered HEADER (`GMSFHM`, `公民身份号码`, `aac002`, …); a header
missing from a row is written empty. The file is written in the feed's format and encoding from the
registry (GB18030 CSV for hukou, UTF-8 with BOM for residence_permit, JSON Lines, XLSX sheet, Parquet),
then `_MANIFEST.json` with the right sha256 and row count unless told otherwise.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
from pathlib import Path
from typing import Any

from pipelines.feeds import registry
from pipelines.lib.citizen_id import check_char

WENZHOU_COUNTIES = tuple(registry().code_lists["wenzhou_county"])
TAMPER = ("sha256", "rows", "missing", "extra", "feed", "date")
_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def citizen_id(county: str = "330302", birth: str = "19900101", seq: str = "123") -> str:
    """A valid 18-character citizen ID (odd `seq` = male, even = female)."""
    first17 = county + birth + seq
    return first17 + check_char(first17)


def credit_code(body: str = "91330302MA2H12345") -> str:
    """A unified social credit code (GB 32100-2015) with its check character."""
    total = sum(_USCC_CHARS.index(c) * w for c, w in zip(body, _USCC_WEIGHTS, strict=True))
    return body + _USCC_CHARS[(31 - total % 31) % 31]


def sample_row(feed_name: str, **overrides: str) -> dict[str, str]:
    """One valid row of `feed_name`, keyed by delivered header; keyword overrides replace values.

    Non-ASCII headers can be overridden with a dict: `sample_row("education", **{"姓名": "王五"})`.
    """
    man, woman, child = citizen_id(), citizen_id(birth="19920305", seq="246"), citizen_id(birth="20150601")
    rows: dict[str, dict[str, str]] = {
        "hukou": {
            "GMSFHM": man, "XM": "张三", "XBDM": "1", "MZDM": "01", "CSRQ": "19900101",
            "HH": "330302000123", "YHZGXDM": "02", "HJDZ_XZQHDM": "330302",
            "HJDZ_XZ": "浙江省温州市鹿城区五马街道解放街1号", "YHKXZ": "农业", "RYZT": "0", "BDRQ": "",
        },
        "residence_permit": {
            "公民身份号码": citizen_id(county="340102", birth="19880808", seq="135"), "姓名": "李四",
            "性别": "男", "出生日期": "1988-08-08", "户籍地区划代码": "340102", "居住地区划代码": "330303",
            "居住地址": "浙江省温州市龙湾区永中街道1号", "居住登记日期": "2020-05-01",
            "居住证号码": "330303202000001", "签发日期": "2020-06-01", "有效期至": "2025-06-01",
            "居住处所类型": "租赁住房", "就业单位": "温州某某鞋业有限公司",
        },
        "education": {
            "学籍号": "G" + child, "公民身份号码": child, "姓名": "张小明", "性别": "男",
            "学校名称": "温州市实验小学", "学校区划代码": "330302", "学段": "小学", "入学日期": "2021/09/01",
            "学籍状态": "在读", "毕业日期": "", "学历代码": "", "随迁子女": "否",
        },
        "social_insurance": {
            "aac001": "1000001", "aac002": man, "aac003": "张三", "aac004": "1", "aae140": "110",
            "aac008": "1", "aae030": "20150101", "aae041": "202609", "aae202": "141", "aae116": "0",
            "aab001": "E0001", "aab004": "温州某某鞋业有限公司", "aab301": "330302",
        },
        "tax": {
            "证件类型": "居民身份证", "证件号码": man, "纳税人姓名": "张三", "所得期间": "2026-09",
            "所得项目": "工资薪金所得", "收入额": "12000.00", "已缴税额": "345.00",
            "扣缴义务人名称": "温州某某鞋业有限公司", "扣缴义务人统一社会信用代码": credit_code(),
            "主管税务机关区划代码": "330302",
        },
        "marriage": {
            "登记证字号": "J330302-2026-000123", "登记类型": "结婚登记", "登记日期": "2026-09-15",
            "男方公民身份号码": man, "男方姓名": "张三", "女方公民身份号码": woman, "女方姓名": "王芳",
            "登记机关": "鹿城区民政局婚姻登记处", "登记机关区划代码": "330302",
        },
        "property": {
            "不动产权证号": "浙(2026)温州市不动产权第0001234号", "不动产单元号": "330302001001GB00001F00010001",
            "权利人名称": "张三", "权利人证件类型": "居民身份证", "权利人证件号码": man, "共有方式": "单独所有",
            "权利份额": "", "坐落": "鹿城区五马街道解放街1号", "区划代码": "330302", "用途": "住宅",
            "建筑面积": "89.50", "登记日期": "2026-09-01", "权属状态": "现势",
        },
    }
    row = dict(rows[feed_name])
    unknown = set(overrides) - set(row)
    if unknown:
        raise KeyError(f"feed {feed_name} has no header(s) {sorted(unknown)}")
    row.update(overrides)
    return row


def _date(date: str | dt.date) -> dt.date:
    if isinstance(date, dt.date):
        return date
    return dt.date.fromisoformat(date) if "-" in date else dt.datetime.strptime(date, "%Y%m%d").date()


def _csv_bytes(headers: list[str], rows: list[dict[str, Any]], encoding: str) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(headers)
    writer.writerows([[r.get(h, "") for h in headers] for r in rows])
    return buf.getvalue().encode(encoding)


def _jsonl_bytes(headers: list[str], rows: list[dict[str, Any]]) -> bytes:
    lines = [json.dumps({h: r[h] for h in headers if h in r}, ensure_ascii=False) for r in rows]
    return "".join(line + "\n" for line in lines).encode("utf-8")


def _xlsx(path: Path, sheet: str, headers: list[str], rows: list[dict[str, Any]]) -> None:
    import xlsxwriter

    workbook = xlsxwriter.Workbook(str(path))
    ws = workbook.add_worksheet(sheet)
    date_format = workbook.add_format({"num_format": "yyyy-mm-dd"})
    for c, h in enumerate(headers):
        ws.write_string(0, c, h)
    for r, row in enumerate(rows, start=1):
        for c, h in enumerate(headers):
            value = row.get(h, "")
            if isinstance(value, str):
                if value:
                    ws.write_string(r, c, value)
            elif isinstance(value, dt.date):
                ws.write_datetime(r, c, value, date_format)
            else:
                ws.write(r, c, value)
    workbook.close()


def _parquet(path: Path, headers: list[str], rows: list[dict[str, Any]]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({h: [r.get(h, "") for r in rows] for h in headers}), path)


def write_manifest(folder: Path, feed_name: str, date: str | dt.date, rows_by_file: dict[str, int],
                   *, tamper: str | None = None) -> Path:
    """Write `_MANIFEST.json` for the files already in `folder` (sha256 computed from disk)."""
    day = _date(date)
    files = [{"name": n, "rows": rows, "sha256": hashlib.sha256((folder / n).read_bytes()).hexdigest()}
             for n, rows in rows_by_file.items()]
    manifest: dict[str, Any] = {"feed": feed_name, "delivery_date": day.isoformat(),
                                "kind": registry().feeds[feed_name].kind, "files": files}
    if tamper == "sha256":
        files[0]["sha256"] = hashlib.sha256(b"something else").hexdigest()
    elif tamper == "rows":
        files[0]["rows"] += 1
    elif tamper == "missing":
        files.append({"name": "part2" + Path(files[0]["name"]).suffix, "rows": 1, "sha256": "0" * 64})
    elif tamper == "feed":
        manifest["feed"] = "tax" if feed_name != "tax" else "hukou"
    elif tamper == "date":
        manifest["delivery_date"] = (day - dt.timedelta(days=1)).isoformat()
    path = folder / "_MANIFEST.json"
    path.write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    return path


def write_delivery(landing: Path, feed_name: str, date: str | dt.date, rows: list[dict[str, Any]], *,
                   fmt: str | None = None, manifest: bool = True, extra_lines: list[bytes] | None = None,
                   tamper: str | None = None, headers: list[str] | None = None,
                   file_name: str | None = None) -> Path:
    """Write `<landing>/<feed>/<YYYYMMDD>/<file>` and its manifest; returns the delivery folder.

    - `fmt`: `csv`, `jsonl`, `xlsx` or `parquet` (default: the feed's registry format).
    - `extra_lines`: raw bytes appended as further data lines (CSV/JSONL only; e.g. a row with the
      wrong field count or invalid bytes); the manifest counts them as rows.
    - `tamper`: one of `TAMPER` to write a manifest that does not match (`extra` adds an unlisted file).
    - `headers`: deliver these headers instead of the registry's (to test renamed/missing/extra columns).
    - `manifest=False`: leave the delivery incomplete (call `write_manifest` later).
    Values that are not strings are written natively (numbers in XLSX/JSON/Parquet, dates in XLSX).
    """
    feed = registry().feeds[feed_name]
    fmt = fmt or feed.format
    day = _date(date)
    folder = Path(landing) / feed_name / f"{day:%Y%m%d}"
    folder.mkdir(parents=True, exist_ok=True)
    heads = list(headers or feed.headers)
    name = file_name or f"{feed_name}_{day:%Y%m%d}.{fmt}"
    path = folder / name
    extra = extra_lines or []
    if extra and fmt not in ("csv", "jsonl"):
        raise ValueError("extra_lines only apply to csv and jsonl deliveries")
    if fmt == "csv":
        encoding = feed.encoding if fmt == feed.format else "utf-8"
        data = _csv_bytes(heads, rows, encoding)
        path.write_bytes(data + b"".join(line if line.endswith(b"\n") else line + b"\n" for line in extra))
    elif fmt == "jsonl":
        data = _jsonl_bytes(heads, rows)
        path.write_bytes(data + b"".join(line if line.endswith(b"\n") else line + b"\n" for line in extra))
    elif fmt == "xlsx":
        _xlsx(path, feed.sheet or "Sheet1", heads, rows)
    elif fmt == "parquet":
        _parquet(path, heads, rows)
    else:
        raise ValueError(f"unknown format {fmt!r}")
    if tamper == "extra":
        (folder / f"unlisted.{fmt}").write_bytes(path.read_bytes())
    if manifest:
        write_manifest(folder, feed_name, day, {name: len(rows) + len(extra)},
                       tamper=None if tamper == "extra" else tamper)
    return folder
