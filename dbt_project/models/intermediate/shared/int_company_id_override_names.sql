{#- Override layer "name" (enrichment.md step 1.3) keyed by the normalised name, so a
    ledger row matches whatever spelling variant its 上报客户名称 had. -#}

with

overrides as (

    select "客户名称", company_id from {{ ref('company_id_overrides_name') }}

),

keys_normalised as (

    select
        {{ customer_name('overrides."客户名称"') }} as "客户名称",
        min(overrides.company_id) as company_id
    from overrides
    group by 1

)

select * from keys_normalised
