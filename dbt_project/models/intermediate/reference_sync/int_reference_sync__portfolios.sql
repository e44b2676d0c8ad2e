{#- enrichment.md §4.5: the portfolios of the plans kept; written by macro write_references. -#}

with

portfolios as (

    select * from {{ ref('stg_reference_sync__portfolios') }}

),

excluded_plans as (

    select "年金计划号" from {{ ref('stg_reference_sync__plans') }}
    where company_id like 'IN%'

),

kept as (

    select portfolios.*
    from portfolios
    left join excluded_plans
        on portfolios."年金计划号" = excluded_plans."年金计划号"
    where excluded_plans."年金计划号" is null

)

select * from kept
