{#- 收入明细 as read, typed and cleaned cell by cell (spec §2.2 steps 1–2, 4, 6, 7, 9;
    §0.3–§0.5). Fees are cleaned with §0.4 before any gate (Rebuild): '¥1,234.00' is 1234.
    客户名称 is filled from the plan name for 单一计划 rows, and 年金账户名 is the name
    after that fill (unlike 规模明细, where it is the raw name). -#}
{%- set fees = ['固费', '浮费', '回补', '税'] -%}

with

source as (

    select * from {{ source('annuity_income', 'income_detail') }}

),

number_texts as materialized (  -- computed once per cell, not once per reference

    {{ select_number_texts('source', fees) }}

),

typed as (

    select
        {{ staged_lineage_columns() }}
        {{ parse_month_date('"月度"') }} as "月度",
        "月度" as "月度__raw",
        "业务类型",
        "计划类型",
        {{ normalise_plan_code('"计划代码"') }} as "计划代码",
        "计划名称",
        "组合类型",
        {{ clean_portfolio_code('"组合代码"') }} as "组合代码",
        "组合名称",
        {{ customer_name_from_plan('"计划类型"', '"客户名称"', '"计划名称"') }} as "客户名称",
        {{ customer_name_from_plan('"计划类型"', '"客户名称"', '"计划名称"') }} as "年金账户名",
        {{ clean_code('"机构代码"') }} as "机构代码",
        "机构名称",
        {%- for column in fees %}
        {{ text_to_number(adapter.quote(column ~ '__text'), 4, is_number=adapter.quote(column ~ '__is_number')) }} as {{ adapter.quote(column) }},
        {%- endfor %}
        {{ first_invalid_number(fees, 'column') }} as _invalid_column,
        {{ first_invalid_number(fees, 'value') }} as _invalid_value
    from number_texts

)

select * from typed
