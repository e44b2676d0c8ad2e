{#- 规模明细 with its final company_id and the verdict on every row: dropped silently
    (spec §1.4: no plan code after defaults, 月度 unparseable), rejected with a reason, or
    published. This is exactly what the mart publishes, so the blocking data tests run
    here, before anything is written to business.规模明细. -#}
{%- set widths = {'业务类型': 255, '计划类型': 255, '计划代码': 255, '计划名称': 255, '组合类型': 255,
                  '组合代码': 255, '组合名称': 255, '客户名称': 255, '机构名称': 255, '机构代码': 255,
                  '产品线代码': 255, '年金账户名': 255, '子企业名称': 255, '集团企业客户名称': 255,
                  '年金账户号': 50, '子企业号': 50, '集团企业客户号': 50} -%}
{%- set amounts = ['期初资产规模', '期末资产规模', '供款', '流失_含待遇支付', '流失', '待遇支付', '投资收益'] -%}

with

cleaned as (

    select * from {{ ref('int_scale_detail_cleaned') }}

),

resolution as (

    select * from {{ ref('stg_annuity_performance__company_resolution') }}

),

resolved as (

    {{ select_company_resolved('cleaned', 'resolution') }}

),

checked as (

    select
        resolved.*,
        case
            when resolved."计划代码" is null then 'no plan code after defaults'
            when resolved."月度" is null then '月度 is not a recognised date'
        end as _drop_reason,
        case
            when resolved._invalid_column is not null
                then array[resolved._invalid_column, resolved._invalid_value, 'not a number']
            when {{ date_out_of_range('resolved."月度"') }}
                then array['月度', resolved."月度__raw", 'date outside 2000–2030 or in the future']
            when resolved."当期收益率" not between -1 and 10
                then array['当期收益率', resolved."当期收益率__raw", 'rate outside [-1, 10]']
            {{- reject_when_too_large('resolved', amounts) }}
            when resolved."业务类型" is null then array['业务类型', null, 'refresh key 业务类型 is empty']
            when resolved."计划类型" is null then array['计划类型', null, 'refresh key 计划类型 is empty']
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
        "期初资产规模",
        "期末资产规模",
        "供款",
        "流失_含待遇支付",
        "流失",
        "待遇支付",
        "投资收益",
        "当期收益率",
        "机构代码",
        "机构名称",
        "产品线代码",
        "年金账户名",
        "年金账户号",
        "子企业号",
        "子企业名称",
        "集团企业客户号",
        "集团企业客户名称",
        upper(resolved_company_id) as company_id,
        resolved_company_id_source as company_id_source,
        _drop_reason,
        case when _drop_reason is null then _reject[1] end as _reject_column,
        case when _drop_reason is null then _reject[2] end as _reject_value,
        case when _drop_reason is null then _reject[3] end as _reject_reason
    from checked

)

select * from final
