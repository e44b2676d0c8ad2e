{#- fk_customer of the loss ledger (enrichment.md §4.3): one candidate row of
    customer.客户明细 per real company_id of the rows about to be published, weighted by
    计划规模, plan columns from 年金计划号; the tag `YYMM流失` of the first 上报月份 is
    merged into an existing customer's tags (decision D20). -#}

with

published as (

    select * from {{ ref('int_loss_ledger_company_resolved') }}
    where {{ is_published() }}

),

customers as (

    select
        company_id,
        {{ backfill_first('"客户名称"') }} as "客户名称",
        {{ backfill_max_by('"机构代码"', '"计划规模"') }} as "主拓机构代码",
        {{ backfill_max_by('"机构名称"', '"计划规模"') }} as "主拓机构",
        {{ backfill_concat_distinct('"业务类型"', '+') }} as "管理资格",
        {{ backfill_concat_distinct('"计划类型"', '/') }} as "年金计划类型",
        {{ backfill_max_by('"年金计划号"', '"计划规模"') }} as "关键年金计划",
        {{ backfill_concat_distinct('"年金计划号"', ',') }} as "其他年金计划",
        {{ backfill_count_distinct('"年金计划号"') }} as "关联计划数",
        {{ backfill_count_distinct('"机构名称"') }} as "关联机构数",
        {{ backfill_concat_distinct('"机构名称"', ',') }} as "其他开拓机构",
        jsonb_build_array({{ backfill_first("to_char(\"上报月份\", 'YYMM')") }} || '流失') as tags,
        '流失客户' as "年金客户类型"
    from published
    where company_id is not null and company_id not like 'IN%'
    group by company_id

)

select * from customers
