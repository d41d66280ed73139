-- The minimal DuckDB script's SQL (benchmarks/duckdb_minimal.py), one step per `-- step:` section, run in order.
-- The pandas baseline's result (benchmarks/pandas_baseline.py) the same way: its ID rules, its per-feed
-- deduplication (the last row of a key in file order, `rn`) and aggregates, its merge. Parameters: $ref (the
-- delivery date), $id_type (居民身份证).

-- step: macros
-- the check character of an ID's first 17 digits as a BIGINT (ISO 7064 MOD 11-2, weights 7 9 10 5 8 4 2 1 6 3 …)
create or replace macro mn_check(n) as substr('10X98765432', 1 + ((
    (n // 10000000000000000 % 10) * 7 + (n // 1000000000000000 % 10) * 9 + (n // 100000000000000 % 10) * 10 + (n // 10000000000000 % 10) * 5
    + (n // 1000000000000 % 10) * 8 + (n // 100000000000 % 10) * 4 + (n // 10000000000 % 10) * 2 + (n // 1000000000 % 10) * 1
    + (n // 100000000 % 10) * 6 + (n // 10000000 % 10) * 3 + (n // 1000000 % 10) * 7 + (n // 100000 % 10) * 9
    + (n // 10000 % 10) * 10 + (n // 1000 % 10) * 5 + (n // 100 % 10) * 8 + (n // 10 % 10) * 4
    + (n // 1 % 10) * 2) % 11)::integer, 1);
-- an ID already in shape (most are): no cleaning
create or replace macro mn_plain(s) as strlen(s) = 18 and regexp_full_match(s, '[0-9]{17}[0-9X]');
create or replace macro mn_clean(raw) as if(mn_plain(raw), raw, upper(regexp_replace(
    translate(raw, '０１２３４５６７８９ｘＸ', '0123456789xX'), '[\s\-''"‘’“”`]', '', 'g')));
create or replace macro mn_up(s) as
    if(strlen(s) = 15 and regexp_full_match(s, '[0-9]{15}'), s[1:6] || '19' || s[7:], null);
create or replace macro mn_ok(s, n) as
    mn_plain(s) and n is not null and s[18] = mn_check(n)
    and coalesce(year(try_strptime(s[7:14], '%Y%m%d')) >= 1900, false);
-- each step a column of its own: a macro argument is pasted in wherever it is used (17 times in mn_check)
create or replace macro mn_id(raw) as (
    select if(mn_ok(s, n), s, null)
    from (select s, try_cast(s[1:17] as bigint) as n
          from (select if(up is null, c, up || mn_check(up17)) as s
                from (select c, up, try_cast(up as bigint) as up17
                      from (select c, mn_up(c) as up from (select mn_clean(raw) as c)))))
);

-- step: hk
create or replace temp table hk as
select citizen_id, trim(XM) as name, coalesce(case XBDM when '1' then '男' when '2' then '女' end, XBDM) as sex,
    try_strptime(CSRQ, '%Y%m%d')::date as birth_date, HJDZ_XZQHDM as hukou_district_code, HH as household_no,
    RYZT = '0' as in_hukou, RYZT = '1' as is_deceased
from (select *, mn_id(GMSFHM) as citizen_id from hukou_raw)
where citizen_id is not null
qualify row_number() over (partition by citizen_id order by rn desc) = 1;

-- step: rp
create or replace temp table rp as
select citizen_id, "居住地区划代码" as residence_district_code, true as has_residence_registration,
    trim("姓名") as residence_name
from (select *, mn_id("公民身份号码") as citizen_id from residence_raw)
where citizen_id is not null
qualify row_number() over (partition by citizen_id order by rn desc) = 1;

-- step: ed_agg
create or replace temp table ed_agg as
with ed as (
    select * from (select *, mn_id("公民身份号码") as citizen_id from education_raw)
    where citizen_id is not null
    qualify row_number() over (partition by "学籍号" order by rn desc) = 1
)
select citizen_id,
    min(nullif("学历代码", '')) filter (where "学籍状态" = '毕业') as highest_education_code,
    bool_or("学籍状态" = '在读') as in_school,
    bool_or("学籍状态" = '在读' and "随迁子女" = '是') as is_migrant_child
from ed group by citizen_id;

-- step: ins_agg
create or replace temp table ins_agg as
with ins as (
    select *, aac008 = '1' as active, aae140 in ('110', '120', '170') as pension,
        try_strptime(replace(aae041, '-', ''), '%Y%m') as last_paid
    from (select *, mn_id(aac002) as citizen_id from insurance_raw)
    where citizen_id is not null
    qualify row_number() over (partition by citizen_id, aae140 order by rn desc) = 1
)
select citizen_id,
    bool_or(pension and active) as pension_insured,
    bool_or(aae140 in ('310', '390') and active) as medical_insured,
    max(try_cast(aae202 as double)) as insured_months,
    bool_or(pension and aae116 = '1') as receiving_pension,
    max(last_paid) as last_paid_month,
    bool_or(active and last_paid > $ref - interval 6 month) as contributing_recently
from ins group by citizen_id;

-- step: tax_agg
create or replace temp table tax_agg as
with tx as (
    select *, try_strptime(replace("所得期间", '-', ''), '%Y%m') as period,
        try_cast(regexp_replace(translate("收入额", '０１２３４５６７８９', '0123456789'), '[,，\s]', '', 'g')
            as double) as income
    from (select *, mn_id(if(trim("证件类型") = $id_type, "证件号码", null)) as citizen_id from tax_raw)
    where citizen_id is not null
    qualify row_number() over (partition by citizen_id, "所得期间", "所得项目", "扣缴义务人统一社会信用代码"
        order by rn desc) = 1
)
select citizen_id,
    sum(income) filter (where period > date_trunc('month', $ref) - interval 12 month) as income_last_12m,
    max(period) as last_income_period
from tx group by citizen_id;

-- step: prop_agg
create or replace temp table prop_agg as
select citizen_id, count(distinct "不动产单元号") as property_units
from (select *, mn_id(if(trim("权利人证件类型") = $id_type, "权利人证件号码", null)) as citizen_id from property_raw)
where citizen_id is not null and "权属状态" = '现势'
group by citizen_id;

-- step: mar
create or replace temp table mar as
with m as (
    select *, mn_id("男方公民身份号码") as husband_id, mn_id("女方公民身份号码") as wife_id,
        coalesce(try_strptime("登记日期", '%Y-%m-%d'), try_strptime("登记日期", '%Y/%m/%d'),
                 try_strptime("登记日期", '%Y%m%d'))::date as date
    from marriage_raw
    qualify row_number() over (partition by "登记证字号" order by rn desc) = 1
),
ev as (
    select husband_id as citizen_id, wife_id as partner, "登记类型" as type, date, rn, 0 as side from m
    union all
    select wife_id, husband_id, "登记类型", date, rn, 1 from m
),
ranked as (
    select *, count(*) filter (where type = '结婚登记') over (partition by citizen_id) as marriages,
        row_number() over (partition by citizen_id order by date desc nulls first, side desc, rn desc) as pick
    from ev where citizen_id is not null
)
select citizen_id,
    case when type = '结婚登记' then '已婚' when type = '离婚登记' then '离婚' when marriages > 1 then '离婚'
        else '未婚' end as marital_status,
    if(type = '结婚登记', partner, null) as spouse_citizen_id,
    date as marital_status_since
from ranked where pick = 1;

-- step: base
create or replace temp table base as
with ids as (
    select citizen_id from hk union select citizen_id from rp union select citizen_id from ed_agg
    union select citizen_id from ins_agg union select citizen_id from tax_agg union select citizen_id from prop_agg
    union select citizen_id from mar
)
select ids.citizen_id, coalesce(hk.name, rp.residence_name) as name, hk.sex, hk.birth_date,
    hk.hukou_district_code, hk.household_no, coalesce(hk.in_hukou, false) as in_hukou, hk.is_deceased,
    rp.residence_district_code, coalesce(rp.has_residence_registration, false) as has_residence_registration,
    ed_agg.* exclude (citizen_id), ins_agg.* exclude (citizen_id), tax_agg.* exclude (citizen_id),
    coalesce(prop_agg.property_units, 0) as property_units, mar.* exclude (citizen_id)
from ids
left join hk using (citizen_id) left join rp using (citizen_id) left join ed_agg using (citizen_id)
left join ins_agg using (citizen_id) left join tax_agg using (citizen_id) left join prop_agg using (citizen_id)
left join mar using (citizen_id);
