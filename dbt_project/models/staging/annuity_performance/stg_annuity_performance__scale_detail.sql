{#- 规模明细 as read, typed and cleaned cell by cell (spec §0.3–§0.5, §1.2 steps 2, 8–10).
    No joins: mappings and defaults are applied in the intermediate layer. -#}
{%- set amounts = ['期初资产规模', '期末资产规模', '供款', '流失_含待遇支付', '流失', '待遇支付', '投资收益'] -%}
{%- set rates = ['当期收益率'] -%}

with

source as (

    select * from {{ source('annuity_performance', 'scale_detail') }}

),

number_texts as materialized (  -- computed once per cell, not once per reference

    {{ select_number_texts('source', amounts + rates) }}

),

typed as (

    select
        {{ staged_lineage_columns() }}
        {{ parse_month_date('"月度"') }} as "月度",
        "月度" as "月度__raw",
        "当期收益率" as "当期收益率__raw",
        "业务类型",
        "计划类型",
        {{ normalise_plan_code('"计划代码"') }} as "计划代码",
        "计划名称",
        "组合类型",
        {{ clean_portfolio_code('"组合代码"') }} as "组合代码",
        "组合名称",
        "客户名称",
        "客户名称" as "年金账户名",
        "机构名称",
        {{ clean_code('"子企业号"') }} as "子企业号",
        "子企业名称",
        {{ strip_customer_number_prefix('"集团企业客户号"') }} as "集团企业客户号",
        "集团企业客户名称",
        {{ clean_code('"公司代码"') }} as "公司代码",
        {%- for column in amounts %}
        {{ text_to_number(adapter.quote(column ~ '__text'), 4, is_number=adapter.quote(column ~ '__is_number')) }} as {{ adapter.quote(column) }},
        {%- endfor %}
        {%- for column in rates %}
        {{ text_to_number(adapter.quote(column ~ '__text'), 6, is_rate=true, is_number=adapter.quote(column ~ '__is_number')) }} as {{ adapter.quote(column) }},
        {%- endfor %}
        {{ first_invalid_number(amounts + rates, 'column') }} as _invalid_column,
        {{ first_invalid_number(amounts + rates, 'value') }} as _invalid_value
    from number_texts

)

select * from typed
