{#- Distinct 上报客户名称 of the award ledger and their normalised form (spec §0.6). -#}

with

award_ledger as (

    select * from {{ ref('stg_annual_award__award_ledger') }}

),

raw_names as (

    select distinct "上报客户名称" as raw_name
    from award_ledger
    where "上报客户名称" is not null

),

names_normalised as (

    select
        raw_name,
        {{ customer_name('raw_name') }} as "客户名称"
    from raw_names

)

select * from names_normalised
