{#- fk_product_line (enrichment.md §4.3): one candidate row of mapping.产品线 per
    product-line code of the rows about to be published, named by its 业务类型. -#}

with

published as (

    select * from {{ ref('int_scale_detail_company_resolved') }}
    where {{ is_published() }}

),

product_lines as (

    select
        "产品线代码",
        {{ backfill_first('"业务类型"') }} as "产品线"
    from published
    where nullif(btrim("产品线代码"), '') is not null
    group by "产品线代码"

)

select * from product_lines
