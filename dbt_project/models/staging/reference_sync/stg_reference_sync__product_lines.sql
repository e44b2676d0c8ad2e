{#- mapping."产品线" as the copy gives it, typed; blank text is NULL. -#}

with

copied as (

    select * from {{ source('reference_sync', 'product_lines') }}

),

typed as (

    select
        nullif(btrim("产品线"), '')::varchar(255) as "产品线",
        nullif(btrim("产品类别"), '')::varchar(255) as "产品类别",
        nullif(btrim("业务大类"), '')::varchar(255) as "业务大类",
        nullif(btrim("产品线代码"), '')::varchar(255) as "产品线代码",
        nullif(btrim("NO_产品线"), '')::numeric::integer as "NO_产品线",
        nullif(btrim("NO_产品类别"), '')::numeric::integer as "NO_产品类别"
    from copied

)

select * from typed
