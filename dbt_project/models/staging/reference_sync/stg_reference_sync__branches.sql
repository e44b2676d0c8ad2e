{#- mapping."组织架构" as the copy gives it, typed; blank text is NULL. -#}

with

copied as (

    select * from {{ source('reference_sync', 'branches') }}

),

typed as (

    select
        nullif(btrim("机构"), '')::varchar(255) as "机构",
        nullif(btrim("年金中心"), '')::varchar(255) as "年金中心",
        nullif(btrim("战区"), '')::varchar(255) as "战区",
        nullif(btrim("机构代码"), '')::varchar(255) as "机构代码",
        nullif(btrim("NO_机构"), '')::numeric::integer as "NO_机构",
        nullif(btrim("NO_年金中心"), '')::numeric::integer as "NO_年金中心",
        nullif(btrim("NO_区域"), '')::numeric::integer as "NO_区域",
        nullif(btrim("新架构"), '')::varchar(255) as "新架构",
        nullif(btrim("行政域"), '')::varchar(255) as "行政域"
    from copied

)

select * from typed
