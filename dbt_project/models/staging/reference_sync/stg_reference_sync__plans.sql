{#- mapping."年金计划" as the copy gives it, typed; blank text is NULL. -#}

with

copied as (

    select * from {{ source('reference_sync', 'plans') }}

),

typed as (

    select
        nullif(btrim("年金计划号"), '')::varchar(255) as "年金计划号",
        nullif(btrim("计划简称"), '')::varchar(255) as "计划简称",
        nullif(btrim("计划全称"), '')::varchar(255) as "计划全称",
        nullif(btrim("计划类型"), '')::varchar(255) as "计划类型",
        nullif(btrim("客户名称"), '')::varchar(255) as "客户名称",
        nullif(btrim("管理资格"), '')::varchar(255) as "管理资格",
        nullif(btrim("计划状态"), '')::varchar(255) as "计划状态",
        nullif(btrim("主拓代码"), '')::varchar(10) as "主拓代码",
        nullif(btrim("主拓机构"), '')::varchar(10) as "主拓机构",
        nullif(btrim(company_id), '')::varchar(255) as company_id,
        nullif(btrim("组合数"), '')::numeric::integer as "组合数",
        nullif(btrim("是否统括"), '')::numeric::integer as "是否统括",
        nullif(btrim("备注"), '')::text as "备注"
    from copied

)

select * from typed
