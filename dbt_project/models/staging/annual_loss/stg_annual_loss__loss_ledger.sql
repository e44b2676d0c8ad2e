{#- The loss ledger's rows as read, typed and cleaned cell by cell (spec §3.2 steps 1, 5,
    8, 13). No joins: mappings and overrides are applied in the intermediate layer. -#}
{%- set amounts = ['计划规模', '年缴规模'] -%}

with

source as (

    select * from {{ source('annual_loss', 'loss_ledger') }}

),

number_texts as materialized (  -- computed once per cell, not once per reference

    {{ select_number_texts('source', amounts) }}

),

typed as (

    select
        {{ staged_lineage_columns() }}
        {{ parse_month_date('"上报月份"') }} as "上报月份",
        "上报月份" as "上报月份__raw",
        "业务类型",
        "计划类型",
        "上报客户名称",
        "机构名称",
        {{ clean_code('"机构代码"') }} as "机构代码",
        "客户类型",
        "原受托人",
        "证明材料",
        "备注",
        {{ clean_code('"company_id"') }} as source_company_id,
        {{ normalise_plan_code('"年金计划号"') }} as "年金计划号",
        {{ parse_event_date('"流失日期"') }} as "流失日期",
        {{ parse_flag('"考核有效"') }} as "考核有效",
        {%- for column in amounts %}
        {{ text_to_number(adapter.quote(column ~ '__text'), 4, is_number=adapter.quote(column ~ '__is_number')) }} as {{ adapter.quote(column) }},
        {%- endfor %}
        {{ first_invalid_number(amounts, 'column') }} as _invalid_column,
        {{ first_invalid_number(amounts, 'value') }} as _invalid_value
    from number_texts

)

select * from typed
