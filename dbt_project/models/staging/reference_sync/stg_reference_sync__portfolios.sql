{#- mapping."组合计划" as the copy gives it, typed; blank text is NULL. -#}

with

copied as (

    select * from {{ source('reference_sync', 'portfolios') }}

),

typed as (

    select
        nullif(btrim("组合代码"), '')::varchar(255) as "组合代码",
        nullif(btrim("年金计划号"), '')::varchar(255) as "年金计划号",
        nullif(btrim("组合名称"), '')::varchar(255) as "组合名称",
        nullif(btrim("组合简称"), '')::varchar(255) as "组合简称",
        nullif(btrim("组合状态"), '')::varchar(255) as "组合状态",
        nullif(btrim("组合类型"), '')::varchar(255) as "组合类型",
        nullif(btrim("子分类"), '')::varchar(255) as "子分类",
        nullif(btrim("受托人"), '')::varchar(255) as "受托人",
        nullif(btrim("投资管理人"), '')::varchar(255) as "投资管理人",
        nullif(btrim("受托管理人"), '')::varchar(255) as "受托管理人",
        nullif(btrim("投资组合代码"), '')::varchar(255) as "投资组合代码",
        nullif(btrim("投资组合名称"), '')::varchar(255) as "投资组合名称",
        nullif(btrim("运作开始日"), '')::date as "运作开始日",
        nullif(btrim("是否存款组合"), '')::numeric::integer as "是否存款组合",
        nullif(btrim("是否外部组合"), '')::numeric::integer as "是否外部组合",
        nullif(btrim("是否PK组合"), '')::numeric::integer as "是否PK组合",
        nullif(btrim("备注"), '')::text as "备注"
    from copied

)

select * from typed
