{#- enrichment.md §4.5: the plans whose company_id is not a temporary `IN…` id; written by macro write_references. -#}

with

plans as (

    select * from {{ ref('stg_reference_sync__plans') }}

),

kept as (

    select plans.*
    from plans
    where coalesce(plans.company_id, '') not like 'IN%'

)

select * from kept
