"""Ground truth: `_truth/persons.parquet` (one row per person) and `_truth/defects.parquet`."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipelines.lib.generator.defects import Injected
from pipelines.lib.generator.feeds_build import FeedChunk
from pipelines.lib.generator.population import MARITAL, People, Window

FEED_ORDER = ("hukou", "residence_permit", "education", "social_insurance", "tax", "marriage", "property")
DEFECT_SCHEMA = pa.schema([
    ("feed", pa.string()), ("delivery_date", pa.date32()), ("file", pa.string()), ("row", pa.int64()),
    ("kind", pa.string()), ("column", pa.string()), ("expected", pa.string()), ("citizen_id", pa.string()),
])


class TruthAccumulator:
    """Collects per-person facts from the clean rows of each chunk and streams both truth files."""

    def __init__(self, folder: Path, win: Window) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.win = win
        self.last_i = len(win.deliveries) - 1
        self.income_from = (win.last.astype("datetime64[M]") - 11).astype("datetime64[D]")
        self._persons: pq.ParquetWriter | None = None
        self._defects = pq.ParquetWriter(folder / "defects.parquet", DEFECT_SCHEMA, compression="zstd")
        self._defect_buf: list[pa.Table] = []
        self.n_defects = 0

    def begin(self, p: People) -> None:
        n = p.n
        self.seen = np.zeros((n, len(FEED_ORDER)), dtype=bool)
        self.in_hukou = np.zeros(n, bool)
        self.has_res = np.zeros(n, bool)
        self.in_school = np.zeros(n, bool)
        self.edu = np.full(n, 99, np.int64)
        self.pension = np.zeros(n, bool)
        self.medical = np.zeros(n, bool)
        self.months = np.zeros(n, np.int64)
        self.receiving = np.zeros(n, bool)
        self.income = np.zeros(n)
        self.units = np.zeros(n, np.int64)

    def observe(self, feed: str, fc: FeedChunk, i: int) -> None:
        """Clean rows of one feed at delivery i (before defects)."""
        fi = FEED_ORDER.index(feed)
        mine = fc.pidx >= 0
        pid = fc.pidx[mine]
        if feed in ("tax", "marriage"):
            self.seen[pid, fi] = True
            if feed == "marriage":
                self.seen[fc.aux["wife"], fi] = True
            else:
                ok = mine & (fc.aux["period"] >= self.income_from)
                np.add.at(self.income, fc.pidx[ok], fc.aux["amount"][ok])
        if i != self.last_i:
            return
        if feed not in ("tax", "marriage"):
            self.seen[pid, fi] = True
        if feed == "hukou":
            normal = np.asarray(pc.equal(fc.cols["person_status"], "0").to_numpy(zero_copy_only=False))
            self.in_hukou[fc.pidx[normal]] = True
        elif feed == "residence_permit":
            self.has_res[pid] = True
        elif feed == "education":
            st, code = fc.aux["status"], fc.aux["code"]
            self.in_school[fc.pidx[st == 0]] = True
            g = code > 0
            np.minimum.at(self.edu, fc.pidx[g], code[g])
        elif feed == "social_insurance":
            k, st = fc.aux["kind"], fc.aux["status"]
            active = st == "1"
            self.pension[fc.pidx[active & np.isin(k, [110, 120, 170])]] = True
            self.medical[fc.pidx[active & np.isin(k, [310, 390])]] = True
            np.maximum.at(self.months, fc.pidx, fc.aux["months"])
            self.receiving[fc.pidx[fc.aux["benefit"] == "1"]] = True
        elif feed == "property":
            cur = mine & fc.aux["current"]
            pairs = np.unique(np.stack([fc.pidx[cur], fc.aux["unit"][cur]]), axis=1)
            np.add.at(self.units, pairs[0], 1)

    def defects(self, feed: str, date: dt.date, file: str, base: int, inj: Injected) -> None:
        if not inj.rows:
            return
        k = len(inj.rows)
        self._emit(pa.table({
            "feed": [feed] * k, "delivery_date": pa.array([date] * k, pa.date32()), "file": [file] * k,
            "row": pa.array(np.asarray(inj.rows, dtype=np.int64) + base + 1), "kind": inj.kind,
            "column": pa.array(inj.column, pa.string()), "expected": inj.expected, "citizen_id": inj.cid,
        }, schema=DEFECT_SCHEMA))

    def not_in_backbone(self, feed: str, date: dt.date, file: str, base: int, fc: FeedChunk, p: People,
                        d: np.datetime64) -> None:
        """People in a departmental feed but in neither backbone feed: first row per person and feed."""
        pid = fc.pidx
        ok = pid >= 0
        who = np.where(ok, pid, 0)
        nib = ok & p.floating[who] & (np.isnat(p.resreg_date[who]) | (p.resreg_date[who] > d))
        rows = np.flatnonzero(nib)
        if len(rows) == 0:
            return
        _, first = np.unique(pid[rows], return_index=True)
        rows = rows[first]
        k = len(rows)
        self._emit(pa.table({
            "feed": [feed] * k, "delivery_date": pa.array([date] * k, pa.date32()), "file": [file] * k,
            "row": pa.array(rows.astype(np.int64) + base + 1), "kind": ["not_in_backbone"] * k,
            "column": pa.nulls(k, pa.string()), "expected": ["NOT_IN_BACKBONE"] * k,
            "citizen_id": p.cid.take(pa.array(pid[rows])),
        }, schema=DEFECT_SCHEMA))

    def _emit(self, t: pa.Table) -> None:
        self._defect_buf.append(t)
        self.n_defects += t.num_rows
        if sum(x.num_rows for x in self._defect_buf) > 200_000:
            self._flush()

    def _flush(self) -> None:
        if self._defect_buf:
            self._defects.write_table(pa.concat_tables(self._defect_buf))
            self._defect_buf = []

    def end(self, p: People) -> None:
        """Write the chunk's persons."""
        L = self.win.last
        dead = ~np.isnat(p.death) & (p.death <= L)
        moved = ~dead & ~np.isnat(p.moveout) & (p.moveout <= L)
        lives = (p.live_county > 0) & ~dead & ~moved
        hk = ~p.floating
        rows, which = np.nonzero(self.seen)
        offsets = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=p.n))]).astype(np.int32)
        feeds = pa.ListArray.from_arrays(pa.array(offsets), pa.array(FEED_ORDER).take(pa.array(which)))
        sp = p.spouse
        t = pa.table({
            "citizen_id": p.cid, "name": p.name,
            "sex": pa.array(np.where(p.sex == 1, "男", "女")),
            "birth_date": pa.array(p.birth, pa.date32()),
            "in_hukou": self.in_hukou,
            "hukou_district_code": pa.array(np.where(hk, p.hukou_county.astype(str), None), pa.string()),
            "household_no": p.household_no,
            "has_residence_registration": self.has_res,
            "residence_district_code": pa.array(np.where(lives, p.live_county.astype(str), None), pa.string()),
            "lives_in_city": lives,
            "is_deceased": dead,
            "death_date": pa.array(np.where(dead, p.death, np.datetime64("NaT")), pa.date32(), from_pandas=True),
            "moved_out": moved,
            "marital_status": pa.array(MARITAL[p.marital]),
            "spouse_citizen_id": pa.array(np.where(sp >= 0, p.cid.to_numpy(zero_copy_only=False)[np.maximum(sp, 0)],
                                                   None), pa.string()),
            "highest_education_code": pa.array(np.where(self.edu < 99, self.edu.astype(str), None), pa.string()),
            "in_school": self.in_school, "pension_insured": self.pension, "medical_insured": self.medical,
            "insured_months": self.months, "receiving_pension": self.receiving,
            "income_last_12m": pa.array(np.round(self.income, 2)),
            "property_units": self.units,
            "source_feeds": feeds,
            "is_floating": p.floating,
            "lives_outside_hukou_city": hk & p.away & ~dead & ~moved,
        })
        if self._persons is None:
            self._persons = pq.ParquetWriter(self.folder / "persons.parquet", t.schema, compression="zstd")
        self._persons.write_table(t)

    def close(self) -> int:
        self._flush()
        self._defects.close()
        if self._persons is not None:
            self._persons.close()
        return self.n_defects


README = """# Ground truth of a synthetic delivery set

Written by `pipelines.lib.generator.generate`. Nothing here is delivered by a department: it is what a perfect
pipeline should find. All facts are as of the **last delivery date**.

## persons.parquet — one row per synthetic person (also those living outside the city, deceased, moved out)
| column | meaning |
|---|---|
| citizen_id | the true, normalised 18-character ID |
| name, sex (男/女), birth_date | true identity (sex and birth date agree with the ID) |
| in_hukou | Wenzhou hukou with status 正常 (RYZT 0) in the last hukou delivery |
| hukou_district_code, household_no | registered county and 户号 (NULL for floating people) |
| has_residence_registration | in the last residence_permit delivery |
| residence_district_code | county where the person actually lives, if in the city; else NULL |
| lives_in_city | actually resident in Wenzhou on the last delivery date (the 实有人口 target) |
| is_deceased, death_date, moved_out | hukou status 死亡 / 迁出 by the last delivery |
| marital_status, spouse_citizen_id | 未婚/已婚/离婚/丧偶 from the clean marriage events and spouses' deaths |
| highest_education_code | smallest GB/T 4658 code among graduated records in the last education delivery |
| in_school | a 在读 record in the last education delivery |
| pension_insured, medical_insured | an active (aac008 = 1) pension (110/120/170) / medical (310/390) scheme |
| insured_months | largest aae202 across schemes; receiving_pension: aae116 = 1 |
| income_last_12m | sum of 收入额 over the delivered income periods within the 12 months up to the last delivery |
| property_units | distinct units with a 现势 owner row for the person in the last property delivery |
| source_feeds | feeds the person appears in: snapshot feeds in the last delivery, tax/marriage in any delivery |
| is_floating | hukou outside Wenzhou (extra, for analysis) |
| lives_outside_hukou_city | Wenzhou hukou (normal) but living outside the city (extra: 人户分离 outside) |

The departmental facts (education, insurance, income, property, marital status) are computed from the
**clean** rows, before defects are injected. A pipeline sees the delivered rows, so for a person named in
`defects.parquet` with a quarantine-type `expected` (the row is lost) or a flag from an appended row
(`MULTIPLE_HUKOU`, `ACTIVITY_AFTER_DEATH` on tax/property, `UNDERAGE_MARRIAGE`, `BIGAMY`,
`SAME_SEX_MARRIAGE_RECORD`, `BENEFIT_AFTER_DEATH`), the derived value may legitimately differ. Compare on
persons without such defects, or account for them.

## defects.parquet — one row per injected defect (or per row concerned)
| column | meaning |
|---|---|
| feed, delivery_date, file | where: the delivery folder and data file name |
| row | 1-based data row in that file (header excluded; XLSX: row after the header row) |
| kind | what was done (`id_fullwidth`, `id_legacy_15`, `date_invalid`, `key_conflict`, `not_in_backbone` …) |
| column | canonical registry column name concerned, NULL for whole-row defects |
| expected | `REPAIRED`, `DUPLICATE` (the later, exact copy), a quarantine reason code, or a flag code |
| citizen_id | the TRUE normalised ID of the person concerned |

A row carries at most one defect. `KEY_CONFLICT` lists both rows with the same natural key. `SHARES_NOT_100`
lists every owner row of the unit. `NOT_IN_BACKBONE` lists the first row per person, feed and delivery.

## deliveries_broken.parquet (only with `delivery_defects=True`)
One broken delivery per delivery-level problem, dated the month after the last good delivery:
feed, delivery_date, problem (`header_renamed_column`, `header_missing_column`, `header_extra_column`,
`manifest_sha256_mismatch`, `manifest_row_count_mismatch`, `no_manifest`). Each must be rejected whole, but
`no_manifest`: a folder without its manifest is still arriving and must be left alone (not read, not rejected).
"""


def write_truth_readme(folder: Path) -> None:
    (folder / "README.md").write_text(README, encoding="utf-8")
