{#- fk_portfolio (enrichment.md §4.3): one candidate row of mapping.组合计划 per portfolio
    code of the rows about to be published (after the plans it names). -#}

with

published as (

    select * from {{ ref('int_scale_detail_company_resolved') }}
    where {{ is_published() }}

),

portfolios as (

    select
        "组合代码",
        {{ backfill_first('"计划代码"') }} as "年金计划号",
        {{ backfill_first('"组合名称"') }} as "组合名称",
        {{ backfill_first('"组合类型"') }} as "组合类型"
    from published
    where nullif(btrim("组合代码"), '') is not null
    group by "组合代码"

)

select * from portfolios
