{#- §0.5 code cleaning. -#}

{#- Generic code: text, trimmed, empty → null, numbers without a trailing `.0`. -#}
{% macro clean_code(expr) -%}
    nullif(regexp_replace(btrim({{ expr }}), '^([0-9]+)[.]0+$', '\1'), '')
{%- endmacro %}

{#- Plan code (计划代码 / 年金计划号): upper-case, no `-`, `_` or spaces;
    a value with nothing left after also removing `.`, `（`, `）` is invalid (null). -#}
{% macro normalise_plan_code(expr) -%}
    (select
        case when regexp_replace(coalesce(normalised.code, ''), '[.（）]', '', 'g') <> '' then normalised.code end
     from (
        select upper(regexp_replace({{ clean_code(expr) }}, '[-_[:space:]]', '', 'g')) as code
        limit all offset 0  -- computed once, not once per mention (see normalise_company_name)
     ) as normalised)
{%- endmacro %}

{#- §0.8.3 portfolio code: trimmed, one leading F/f dropped, booleans → null. -#}
{% macro clean_portfolio_code(expr) -%}
    case
        when lower(btrim({{ expr }})) in ('true', 'false') then null
        else nullif(regexp_replace({{ clean_code(expr) }}, '^[Ff]', ''), '')
    end
{%- endmacro %}

{#- 集团企业客户号 → 年金账户号: the leading `C` prefix removed (decision: one C, so
    `CCU123…` → `CU123…`; the original stripped every leading C). -#}
{% macro strip_customer_number_prefix(expr) -%}
    nullif(regexp_replace({{ clean_code(expr) }}, '^C', ''), '')
{%- endmacro %}
