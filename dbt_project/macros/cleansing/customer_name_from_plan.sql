{#- §2.2 step 6: a 单一计划 row without a customer name (NULL, '' or '0') takes it from
    the plan name when that ends with 企业年金计划 ('X企业年金计划' → 'X'); a plan name
    without the suffix, or only the suffix, gives NULL. 集合计划 rows are never filled. -#}
{% macro customer_name_from_plan(plan_type, customer_name, plan_name) -%}
    case
        when {{ plan_type }} = '单一计划' and coalesce(btrim({{ customer_name }}), '') in ('', '0')
            then nullif(btrim(substring({{ plan_name }} from '^(.*)企业年金计划$')), '')
        else {{ customer_name }}
    end
{%- endmacro %}
