{#- §0.8 for the annuity domains, as expressions over the seed rows a model joins. -#}

{#- The plan code: the corrections seed's, else the sheet's, else the default of the
    row's 计划类型 (plan_code_corrections, then plan_code_defaults). -#}
{% macro annuity_plan_code(corrected, reported, type_default) -%}
    coalesce({{ corrected }}, {{ reported }}, {{ type_default }})
{%- endmacro %}

{#- The portfolio code: the sheet's, else QTAN003 for the 职年 business types
    (portfolio_qtan003_business_types), else the default of the row's 计划类型
    (default_portfolio_code, which has one for 集合计划 and 单一计划 only). -#}
{% macro annuity_portfolio_code(reported, qtan003_business_type, type_default) -%}
    coalesce(
        {{ reported }},
        case when {{ qtan003_business_type }} is not null then 'QTAN003' end,
        {{ type_default }}
    )
{%- endmacro %}
