{#- enrichment.md step 3: a source company_id is usable when it is not blank and not a
    placeholder (N, NA, N/A, NONE, NULL, NAN in any case). -#}
{% macro usable_company_id(expr) -%}
    case
        when upper(btrim({{ expr }})) not in ('', 'N', 'NA', 'N/A', 'NONE', 'NULL', 'NAN') then upper(btrim({{ expr }}))
    end
{%- endmacro %}

{#- The identity columns of a cleaned model, for the rows no override layer decided
    (enrichment.md §1 steps 2–5, resolved by `wdh etl` in loader/identity.py):
    the plan code, the normalised name when it can name a company (`0` and `空白` never
    do) and the source's own usable id. `_needs_company_id` marks the rows the resolver
    must give a company_id: no override, and a row that will not be dropped.
    `_identity_single_plan`: a 单一计划 row, whose plan code names one employer — only
    such a code is learned from the source's own id (back-flow, decision D19). -#}
{% macro identity_columns(relation, plan_code, source_id, keeps_row) -%}
        {{ plan_code }} as _identity_plan_code,
        coalesce({{ relation }}."计划类型" = '单一计划', false) as _identity_single_plan,
        case
            when {{ relation }}."客户名称" not in ('0', '空白') then {{ relation }}."客户名称"
        end as _identity_name,
        {{ source_id }} as _identity_source_id,
        ({{ relation }}.company_id_source is null and {{ keeps_row }}) as _needs_company_id
{%- endmacro %}

{#- The `resolved` step of every verdict model: the rows of the CTE `cleaned` with the
    company_id of the CTE `resolution` (one row per distinct identity: plan code, name,
    source id; NULLs match NULLs) filled in where the override layers left none. -#}
{% macro select_company_resolved(cleaned, resolution) -%}
    select
        {{ cleaned }}.*,
        coalesce({{ cleaned }}.company_id, {{ resolution }}.company_id) as resolved_company_id,
        coalesce({{ cleaned }}.company_id_source, {{ resolution }}.company_id_source) as resolved_company_id_source
    from {{ cleaned }}
    left join {{ resolution }}
        on {{ cleaned }}._needs_company_id
        and coalesce({{ cleaned }}._identity_plan_code, '') = coalesce({{ resolution }}._identity_plan_code, '')
        and coalesce({{ cleaned }}._identity_name, '') = coalesce({{ resolution }}._identity_name, '')
        and coalesce({{ cleaned }}._identity_source_id, '') = coalesce({{ resolution }}._identity_source_id, '')
{%- endmacro %}
