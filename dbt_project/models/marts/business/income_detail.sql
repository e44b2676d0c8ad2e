{#- business.收入明细: every 收入明细 row that survived cleaning, published by
    delete+insert of (月度, 业务类型, 计划类型). Types cast exactly to the contract. -#}
{{
    config(
        alias='收入明细',
        schema='business',
        incremental_strategy=publish_strategy(),
        unique_key=['月度', '业务类型', '计划类型'],
        on_schema_change='append_new_columns',
        meta={'identity_column': 'id'},
        indexes=[
            {'columns': ['月度']},
            {'columns': ['计划代码']},
            {'columns': ['company_id']},
            {'columns': ['月度', '计划代码', 'company_id']},
        ],
    )
}}

with

resolved as (

    select * from {{ ref('int_income_detail_company_resolved') }}

),

published as (

    select
        "月度"::date as "月度",
        "计划代码"::varchar(255) as "计划代码",
        company_id::varchar(50) as company_id,
        "客户名称"::varchar(255) as "客户名称",
        "年金账户名"::varchar(255) as "年金账户名",
        "业务类型"::varchar(255) as "业务类型",
        "计划类型"::varchar(255) as "计划类型",
        "组合代码"::varchar(255) as "组合代码",
        "产品线代码"::varchar(255) as "产品线代码",
        "机构代码"::varchar(255) as "机构代码",
        "计划名称"::varchar(255) as "计划名称",
        "组合类型"::varchar(255) as "组合类型",
        "组合名称"::varchar(255) as "组合名称",
        "机构名称"::varchar(255) as "机构名称",
        "固费"::numeric(18, 4) as "固费",
        "浮费"::numeric(18, 4) as "浮费",
        "回补"::numeric(18, 4) as "回补",
        "税"::numeric(18, 4) as "税",
        {{ published_lineage_columns() }}
    from resolved
    where {{ is_published() }}

)

select * from published
