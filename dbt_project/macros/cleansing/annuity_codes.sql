{#- §0.8 for the annuity domains, as one select over `input` (a CTE with 计划代码,
    计划类型, 业务类型, 组合代码): plan-code corrections then defaults by 计划类型, and the
    portfolio default (职年 business types → QTAN003, else by 计划类型). Adds
    defaulted_plan_code and defaulted_portfolio_code. -#}
{% macro select_annuity_codes_defaulted(input) -%}
    select
        {{ input }}.*,
        coalesce(
            plan_code_corrections."计划代码", {{ input }}."计划代码", plan_code_defaults."计划代码"
        ) as defaulted_plan_code,
        coalesce(
            {{ input }}."组合代码",
            case when qtan003_business_types."业务类型" is not null then 'QTAN003' end,
            portfolio_defaults."组合代码"
        ) as defaulted_portfolio_code
    from {{ input }}
    left join {{ ref('plan_code_corrections') }} as plan_code_corrections
        on {{ input }}."计划代码" = plan_code_corrections."原计划代码"
    left join {{ ref('plan_code_defaults') }} as plan_code_defaults
        on {{ input }}."计划类型" = plan_code_defaults."计划类型"
    left join {{ ref('default_portfolio_code') }} as portfolio_defaults
        on {{ input }}."计划类型" = portfolio_defaults."计划类型"
        and portfolio_defaults."计划类型" in ('集合计划', '单一计划')
    left join {{ ref('portfolio_qtan003_business_types') }} as qtan003_business_types
        on {{ input }}."业务类型" = qtan003_business_types."业务类型"
{%- endmacro %}
