{#- Distinct 上报客户名称 of the loss ledger and their normalised form (spec §0.6). -#}

with

loss_ledger as (

    select * from {{ ref('stg_annual_loss__loss_ledger') }}

),

raw_names as (

    select distinct "上报客户名称" as raw_name
    from loss_ledger
    where "上报客户名称" is not null

),

names_normalised as (

    select
        raw_name,
        {{ customer_name('raw_name') }} as "客户名称"
    from raw_names

)

select * from names_normalised
