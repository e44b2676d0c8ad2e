{#- customer."客户明细" as the copy gives it, typed; blank text is NULL. -#}

with

copied as (

    select * from {{ source('reference_sync', 'customers') }}

),

typed as (

    select
        nullif(btrim(company_id), '')::varchar(255) as company_id,
        nullif(btrim("客户名称"), '')::text as "客户名称",
        nullif(btrim("年金客户类型"), '')::text as "年金客户类型",
        nullif(btrim("年金计划类型"), '')::text as "年金计划类型",
        nullif(btrim("关键年金计划"), '')::text as "关键年金计划",
        nullif(btrim("主拓机构代码"), '')::text as "主拓机构代码",
        nullif(btrim("主拓机构"), '')::text as "主拓机构",
        nullif(btrim("其他年金计划"), '')::text as "其他年金计划",
        nullif(btrim("客户简称"), '')::text as "客户简称",
        nullif(btrim("管理资格"), '')::text as "管理资格",
        nullif(btrim("规模区间"), '')::text as "规模区间",
        nullif(btrim("其他开拓机构"), '')::text as "其他开拓机构",
        nullif(btrim("计划状态"), '')::text as "计划状态",
        nullif(btrim("最新受托规模"), '')::double precision as "最新受托规模",
        nullif(btrim("最新投管规模"), '')::double precision as "最新投管规模",
        nullif(btrim("计划层规模"), '')::double precision as "计划层规模",
        nullif(btrim("年缴费规模"), '')::double precision as "年缴费规模",
        nullif(btrim("外部受托规模"), '')::double precision as "外部受托规模",
        nullif(btrim("上报受托规模"), '')::double precision as "上报受托规模",
        nullif(btrim("上报投管规模"), '')::double precision as "上报投管规模",
        nullif(btrim("关联机构数"), '')::numeric::integer as "关联机构数",
        nullif(btrim("关联计划数"), '')::numeric::integer as "关联计划数",
        coalesce(nullif(btrim(tags), '')::jsonb, '[]'::jsonb) as tags,
        nullif(btrim("备注"), '')::text as "备注"
    from copied

)

select * from typed
