{#- The loss ledger with its final company_id and the verdict on every row (spec §3.2
    step 13, Rebuild): dropped when 上报月份, 业务类型 or 上报客户名称 is missing; rejected
    for an out-of-range month, an amount too large or a text too long; an invalid
    计划规模/年缴规模 is a warning (published as NULL). The blocking data tests run here,
    before anything is written to customer.流失客户明细. -#}
{%- set widths = {'业务类型': 20, '产品线代码': 10, '上报客户名称': 255, '客户名称': 255, '年金计划号': 50,
                  '机构名称': 100, '机构代码': 10, '客户类型': 50, '原受托人': 255, '计划类型': 50,
                  '证明材料': 255} -%}

with

cleaned as (

    select * from {{ ref('int_loss_ledger_cleaned') }}

),

resolution as (

    select * from {{ ref('stg_annual_loss__company_resolution') }}

),

resolved as (

    {{ select_company_resolved('cleaned', 'resolution') }}

),

checked as (

    select
        resolved.*,
        case
            when resolved."上报月份" is null then '上报月份 is missing or not a recognised date'
            when resolved."业务类型" is null then '业务类型 is missing'
            when resolved."上报客户名称" is null then '上报客户名称 is missing'
        end as _drop_reason,
        case
            when {{ date_out_of_range('resolved."上报月份"') }}
                then array['上报月份', resolved."上报月份__raw", 'date outside 2000–2030 or in the future']
            {{- reject_when_too_large('resolved', ['计划规模', '年缴规模']) }}
            {{- reject_when_longer('resolved', widths) }}
        end as _reject
    from resolved

),

final as (

    select
        _source_file,
        _source_sheet,
        _source_row,
        _period,
        "上报月份",
        "业务类型",
        "产品线代码",
        "上报客户名称",
        "客户名称",
        "年金计划号",
        upper(resolved_company_id) as company_id,
        resolved_company_id_source as company_id_source,
        "机构名称",
        "机构代码",
        "流失日期",
        "计划规模",
        "年缴规模",
        "客户类型",
        "原受托人",
        "计划类型",
        "证明材料",
        "考核有效",
        "备注",
        _drop_reason,
        case when _drop_reason is null then _reject[1] end as _reject_column,
        case when _drop_reason is null then _reject[2] end as _reject_value,
        case when _drop_reason is null then _reject[3] end as _reject_reason,
        case when _drop_reason is null and _reject is null then _invalid_column end as _warning_column,
        case when _drop_reason is null and _reject is null then _invalid_value end as _warning_value,
        case
            when _drop_reason is null and _reject is null and _invalid_column is not null
                then 'not a number; published as NULL'
        end as _warning_reason
    from checked

)

select * from final
