{#- enrichment.md §4.5: the customers with a real company_id whose key plan is kept; written by macro write_references. -#}

with

customers as (

    select * from {{ ref('stg_reference_sync__customers') }}

),

excluded_plans as (

    select "年金计划号" from {{ ref('stg_reference_sync__plans') }}
    where company_id like 'IN%'

),

kept as (

    select customers.*
    from customers
    left join excluded_plans
        on customers."关键年金计划" = excluded_plans."年金计划号"
    where excluded_plans."年金计划号" is null
        and customers.company_id not like 'IN%'

)

select * from kept
