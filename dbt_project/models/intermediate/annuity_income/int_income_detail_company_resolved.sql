{#- The verdict on every 收入明细 row. Rebuild of spec §2.2 steps 13–14: no row fails the
    run; rows without 月度 or 计划代码, with an unknown 业务类型 (no product line), an
    invalid fee, a date out of range or a text too long are rejected and reported.
    The table-level gate of the original is kept as blocking data tests over the rows
    about to be published (months, plan codes and fees present). -#}
{%- set widths = {'业务类型': 255, '计划类型': 255, '计划代码': 255, '计划名称': 255, '组合类型': 255,
                  '组合代码': 255, '组合名称': 255, '客户名称': 255, '年金账户名': 255, '机构代码': 255,
                  '机构名称': 255, '产品线代码': 255} -%}
{%- set fees = ['固费', '浮费', '回补', '税'] -%}

with

cleaned as (

    select * from {{ ref('int_income_detail_cleaned') }}

),

resolution as (

    select * from {{ ref('stg_annuity_income__company_resolution') }}

),

resolved as (

    {{ select_company_resolved('cleaned', 'resolution') }}

),

checked as (

    select
        resolved.*,
        case
            when resolved."月度" is null then array['月度', resolved."月度__raw", '月度 is missing or not a recognised date']
            when resolved."计划代码" is null then array['计划代码', null, 'no plan code after defaults']
            when resolved._invalid_column is not null
                then array[resolved._invalid_column, resolved._invalid_value, 'not a number']
            when {{ date_out_of_range('resolved."月度"') }}
                then array['月度', resolved."月度__raw", 'date outside 2000–2030 or in the future']
            {{- reject_when_too_large('resolved', fees) }}
            when resolved."业务类型" is null then array['业务类型', null, 'refresh key 业务类型 is empty']
            when resolved."计划类型" is null then array['计划类型', null, 'refresh key 计划类型 is empty']
            when resolved."产品线代码" is null
                then array['业务类型', resolved."业务类型", 'unknown 业务类型 (no product line code)']
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
        "月度",
        "业务类型",
        "计划类型",
        "计划代码",
        "计划名称",
        "组合类型",
        "组合代码",
        "组合名称",
        "客户名称",
        "年金账户名",
        "机构代码",
        "机构名称",
        "产品线代码",
        "固费",
        "浮费",
        "回补",
        "税",
        upper(resolved_company_id) as company_id,
        resolved_company_id_source as company_id_source,
        null::text as _drop_reason,
        _reject[1] as _reject_column,
        _reject[2] as _reject_value,
        _reject[3] as _reject_reason
    from checked

)

select * from final
