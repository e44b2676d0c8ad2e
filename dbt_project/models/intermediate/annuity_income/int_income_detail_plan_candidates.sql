{#- fk_plan of annuity_income (enrichment.md §4.3): one candidate row of mapping.年金计划
    per plan code of the rows about to be published (no 计划类型, 主拓 or 管理资格 here). -#}

with

published as (

    select * from {{ ref('int_income_detail_company_resolved') }}
    where {{ is_published() }}

),

plans as (

    select
        "计划代码" as "年金计划号",
        {{ backfill_first('"计划名称"') }} as "计划全称",
        {{ backfill_first('"客户名称"') }} as "客户名称",
        {{ backfill_first('company_id') }} as company_id
    from published
    where nullif(btrim("计划代码"), '') is not null
    group by "计划代码"

)

select * from plans
