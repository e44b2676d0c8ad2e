{#- enrichment.md §4.5: every branch; written by macro write_references. -#}

with

branches as (

    select * from {{ ref('stg_reference_sync__branches') }}

),

kept as (

    select branches.*
    from branches

)

select * from kept
