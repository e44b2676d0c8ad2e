{#- The distinct customer names of 规模明细 with their normalised form (spec §0.6,
    applied twice as the original does). Normalising distinct names only keeps the
    regular-expression work proportional to the number of customers, not rows. -#}

with

scale_detail as (

    select * from {{ ref('stg_annuity_performance__scale_detail') }}

),

raw_names as (

    select distinct "客户名称" as raw_name
    from scale_detail
    where "客户名称" is not null

),

names_normalised as (

    select
        raw_name,
        {{ customer_name('raw_name') }} as "客户名称"
    from raw_names

)

select * from names_normalised
