-- grain: one row per directed family relation between two persons (citizen_id is the <relation> of related_citizen_id)
-- depends: marts.population_base, marts.households
-- 公民亲属关系认定: spouses from marriage registrations (current marriages), parents and children from
-- household relations (head and spouse of the head are parents of the head's children; the head's
-- parents are the head's parents). Each relation is stored in both directions.
create or replace table marts.person_relations as
with members as (
    select household_no, citizen_id, relation_code from marts.households where person_status = '0'
),
heads as (select household_no, citizen_id from members where relation_code = '02'),
head_spouses as (select household_no, citizen_id from members where relation_code in ('10', '11', '12')),
children as (select household_no, citizen_id from members where relation_code between '20' and '39'),
head_parents as (select household_no, citizen_id from members where relation_code in ('50', '51', '52')),
parent_of as (
    select p.citizen_id as parent_id, c.citizen_id as child_id
    from (select * from heads union all select * from head_spouses) as p
    inner join children as c on c.household_no = p.household_no
    union
    select hp.citizen_id, h.citizen_id
    from head_parents as hp
    inner join heads as h on h.household_no = hp.household_no
),
spouses as (
    select citizen_id, spouse_citizen_id
    from marts.population_base
    where spouse_citizen_id is not null
)
select citizen_id, spouse_citizen_id as related_citizen_id, 'spouse' as relation, 'marriage' as source
from spouses
union all
select parent_id, child_id, 'parent', 'hukou' from parent_of
union all
select child_id, parent_id, 'child', 'hukou' from parent_of;
