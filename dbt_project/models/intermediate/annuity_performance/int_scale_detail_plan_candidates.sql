{#- fk_plan of annuity_performance (enrichment.md §4.3): one candidate row of
    mapping.年金计划 per plan code of the rows about to be published. -#}

with

published as (

    select * from {{ ref('int_scale_detail_company_resolved') }}
    where {{ is_published() }}

),

plans as (

    select
        "计划代码" as "年金计划号",
        {{ backfill_first('"计划名称"') }} as "计划全称",
        {{ backfill_first('"计划类型"') }} as "计划类型",
        {{ backfill_first('"客户名称"') }} as "客户名称",
        left({{ backfill_max_by('"机构代码"', '"期末资产规模"') }}, 10) as "主拓代码",
        left({{ backfill_max_by('"机构名称"', '"期末资产规模"') }}, 10) as "主拓机构",
        {{ backfill_concat_distinct('"业务类型"', '+') }} as "管理资格",
        {{ backfill_first('company_id') }} as company_id
    from published
    where nullif(btrim("计划代码"), '') is not null
    group by "计划代码"

)

select * from plans
