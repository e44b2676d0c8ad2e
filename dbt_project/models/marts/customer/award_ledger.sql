{#- customer.中标客户明细: the ledger rows that survived cleaning, published by delete+insert of
    (上报月份, 业务类型) — the ledger sheets carry their whole history, so every month
    present in the file is replaced. -#}
{{
    config(
        alias='中标客户明细',
        schema='customer',
        incremental_strategy=publish_strategy(),
        unique_key=['上报月份', '业务类型'],
        on_schema_change='append_new_columns',
        meta={'identity_column': 'id'},
        indexes=[
            {'columns': ['上报月份']},
            {'columns': ['业务类型']},
            {'columns': ['company_id']},
            {'columns': ['年金计划号']},
        ],
    )
}}

with

resolved as (

    select * from {{ ref('int_award_ledger_company_resolved') }}

),

published as (  -- cast to the contract

    select
        "上报月份"::date as "上报月份",
        "业务类型"::varchar(20) as "业务类型",
        "产品线代码"::varchar(10) as "产品线代码",
        "上报客户名称"::varchar(255) as "上报客户名称",
        "客户名称"::varchar(255) as "客户名称",
        "年金计划号"::varchar(50) as "年金计划号",
        company_id::varchar(50) as company_id,
        "机构名称"::varchar(100) as "机构名称",
        "机构代码"::varchar(10) as "机构代码",
        "中标日期"::date as "中标日期",
        "计划规模"::numeric(18, 4) as "计划规模",
        "年缴规模"::numeric(18, 4) as "年缴规模",
        "客户类型"::varchar(50) as "客户类型",
        "原受托人"::varchar(255) as "原受托人",
        "计划类型"::varchar(50) as "计划类型",
        "证明材料"::varchar(255) as "证明材料",
        coalesce("考核有效", 0)::integer as "考核有效",
        "备注"::text as "备注",
        {{ published_lineage_columns() }}
    from resolved
    where {{ is_published() }}

)

select * from published
