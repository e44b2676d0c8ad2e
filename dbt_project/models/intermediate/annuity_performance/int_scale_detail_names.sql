{#- The distinct customer names of 规模明细 with their normalised form (spec §0.6,
    applied twice as the original does). Normalising distinct names only keeps the
    regular-expression work proportional to the number of customers, not rows. -#}

with

scale_detail as (

    select "客户名称" from {{ ref('stg_annuity__scale_detail') }}

),

names as (

    select distinct scale_detail."客户名称" as raw_name
    from scale_detail
    where scale_detail."客户名称" is not null

),

names_normalised as (

    select
        names.raw_name,
        {{ customer_name('names.raw_name') }} as "客户名称"
    from names

)

select * from names_normalised
