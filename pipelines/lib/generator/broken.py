"""Broken deliveries (delivery-level defects), dated after the last good delivery: each must be rejected whole."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.feeds import registry
from pipelines.lib.generator import feeds_build as fb
from pipelines.lib.generator import serialise as ser
from pipelines.lib.generator.population import Window, make_people
from pipelines.lib.generator.writers import DeliveryWriter

PROBLEMS = (
    ("hukou", "header_renamed_column"),
    ("residence_permit", "header_missing_column"),
    ("education", "header_extra_column"),
    ("tax", "manifest_sha256_mismatch"),
    ("property", "manifest_row_count_mismatch"),
    ("social_insurance", "no_manifest"),
)


def write_broken(out: Path, seed: int, win: Window, date: dt.date) -> int:
    """Write one broken delivery per problem at `date`; record them in `_truth/deliveries_broken.parquet`."""
    reg = registry()
    d = np.datetime64(date.isoformat())
    w2 = Window([*win.deliveries, d])
    p = make_people(np.random.default_rng([seed, 10**6]), seed, 0, 10**9, 300, 1, w2)
    builders = {"hukou": fb.hukou, "residence_permit": fb.residence_permit, "education": fb.education,
                "social_insurance": fb.social_insurance, "property": fb.property_}
    for feed_name, problem in PROBLEMS:
        feed = reg.feeds[feed_name]
        fc = fb.tax(p, d, 1) if feed_name == "tax" else builders[feed_name](p, d, feed.date_format)
        headers = list(feed.headers)
        cols = list(feed.columns)
        if problem == "header_renamed_column":
            headers[1] = headers[1] + "_NEW"
        elif problem == "header_missing_column":
            headers, cols = headers[:-1], cols[:-1]
        elif problem == "header_extra_column":
            headers = [*headers, "备注"]
        w = DeliveryWriter(out, feed_name, feed.kind, date, feed.format, feed.encoding, headers)
        if feed.format == "parquet":
            w.write_table(ser.parquet_table(feed, fc))
        elif feed.format == "jsonl":
            w.write_lines(ser.jsonl_lines(feed, fc, {}))
        else:
            sub = type(feed).model_construct(**{**feed.__dict__, "columns": tuple(cols)})
            lines = ser.csv_lines(sub, fc, {})
            if problem == "header_extra_column":
                lines = pa.compute.binary_join_element_wise(lines, "", ",")
            w.write_lines(lines)
        w.finish(manifest=problem != "no_manifest")
        if problem.startswith("manifest_"):
            path = w.folder / "_MANIFEST.json"
            body = json.loads(path.read_text(encoding="utf-8"))
            if problem == "manifest_sha256_mismatch":
                body["files"][0]["sha256"] = "0" * 64
            else:
                body["files"][0]["rows"] += 1
            path.write_text(json.dumps(body, ensure_ascii=False, indent=1), encoding="utf-8")
    pq.write_table(pa.table({
        "feed": [f for f, _ in PROBLEMS], "delivery_date": pa.array([date] * len(PROBLEMS), pa.date32()),
        "problem": [pr for _, pr in PROBLEMS],
    }), out / "_truth" / "deliveries_broken.parquet")
    return len(PROBLEMS)
