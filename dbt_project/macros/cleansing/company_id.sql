{#- enrichment.md step 3: a source company_id is usable when it is not blank and not a
    placeholder (N, NA, N/A, NONE, NULL, NAN in any case). -#}
{% macro usable_company_id(expr) -%}
    case
        when upper(btrim({{ expr }})) not in ('', 'N', 'NA', 'N/A', 'NONE', 'NULL', 'NAN') then upper(btrim({{ expr }}))
    end
{%- endmacro %}

{#- enrichment.md steps 4–5: a row goes to the Python resolver (cache, lookup service,
    temporary id) when no override or source column gave it a company_id and it has a
    usable normalised name; `0` and `空白` never get a temporary id. -#}
{% macro needs_company_lookup(relation) -%}
    ({{ relation }}.company_id is null
        and {{ relation }}.company_id_source is null
        and {{ relation }}."客户名称" is not null
        and {{ relation }}."客户名称" not in ('0', '空白'))
{%- endmacro %}
