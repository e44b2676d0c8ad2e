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

{#- The body of every verdict model's `resolved` CTE: the rows of `cleaned` (a CTE)
    with the company_id of the resolution table written by `wdh etl` filled in where
    the override layers left none. -#}
{% macro select_company_resolved(cleaned, resolution_relation) -%}
    select
        {{ cleaned }}.*,
        coalesce({{ cleaned }}.company_id, resolution.company_id) as resolved_company_id,
        coalesce({{ cleaned }}.company_id_source, resolution.source) as resolved_company_id_source
    from {{ cleaned }}
    left join {{ resolution_relation }} as resolution
        on {{ cleaned }}.company_id is null
        and {{ cleaned }}."客户名称" = resolution."客户名称"
{%- endmacro %}
