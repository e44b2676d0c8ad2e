{#- The company_id `wdh etl` resolved for each open identity of the award ledger
    (loader/identity.py, written between the cleaned and the verdict model): a view, so
    the verdict model reads what the resolver wrote in this run. -#}
{{ config(materialized='view', tags=['identity']) }}

with

resolution as (

    select
        _identity_plan_code,
        _identity_name,
        _identity_source_id,
        company_id,
        company_id_source
    from {{ source('annual_award', 'company_resolution') }}

)

select * from resolution
