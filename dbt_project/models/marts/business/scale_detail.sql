{#- business.规模明细: every row of the month that survived cleaning, published by
    delete+insert of its refresh key (月度, 业务类型, 计划类型). Types are cast to the
    contract exactly, so reruns never drift. `id` and the indexes are created once by the
    migration step (macros/migrate_published_tables.sql). -#}
{{
    config(
        alias='规模明细',
        schema='business',
        incremental_strategy=publish_strategy(),
        unique_key=['月度', '业务类型', '计划类型'],
        on_schema_change='append_new_columns',
        meta={'identity_column': 'id'},
        indexes=[
            {'columns': ['月度']},
            {'columns': ['计划代码']},
            {'columns': ['company_id']},
            {'columns': ['机构代码']},
            {'columns': ['产品线代码']},
            {'columns': ['年金账户号']},
            {'columns': ['月度', '计划代码']},
            {'columns': ['月度', 'company_id']},
            {'columns': ['月度', '计划代码', 'company_id']},
        ],
    )
}}

with

resolved as (

    select * from {{ ref('int_scale_detail_company_resolved') }}

),

published as (

    select
        "月度"::date as "月度",
        "业务类型"::varchar(255) as "业务类型",
        "计划类型"::varchar(255) as "计划类型",
        "计划代码"::varchar(255) as "计划代码",
        "计划名称"::varchar(255) as "计划名称",
        "组合类型"::varchar(255) as "组合类型",
        "组合代码"::varchar(255) as "组合代码",
        "组合名称"::varchar(255) as "组合名称",
        "客户名称"::varchar(255) as "客户名称",
        "期初资产规模"::numeric(18, 4) as "期初资产规模",
        "期末资产规模"::numeric(18, 4) as "期末资产规模",
        "供款"::numeric(18, 4) as "供款",
        "流失_含待遇支付"::numeric(18, 4) as "流失_含待遇支付",
        "流失"::numeric(18, 4) as "流失",
        "待遇支付"::numeric(18, 4) as "待遇支付",
        "投资收益"::numeric(18, 4) as "投资收益",
        "当期收益率"::numeric(10, 6) as "当期收益率",
        null::numeric(10, 6) as "年化收益率",
        "机构代码"::varchar(255) as "机构代码",
        "机构名称"::varchar(255) as "机构名称",
        "产品线代码"::varchar(255) as "产品线代码",
        "年金账户名"::varchar(255) as "年金账户名",
        "年金账户号"::varchar(50) as "年金账户号",
        "子企业号"::varchar(50) as "子企业号",
        "子企业名称"::varchar(255) as "子企业名称",
        "集团企业客户号"::varchar(50) as "集团企业客户号",
        "集团企业客户名称"::varchar(255) as "集团企业客户名称",
        company_id::varchar(50) as company_id,
        {{ published_lineage_columns() }}
    from resolved
    where {{ is_published() }}

)

select * from published
