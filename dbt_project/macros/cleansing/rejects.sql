{#- True for a verdict row that is published: neither dropped nor rejected. The marts and
    the back-fill candidates read only such rows. -#}
{% macro is_published() -%}
    _drop_reason is null and _reject_reason is null
{%- endmacro %}

{#- `when … then array[column, value, reason]` branches of a verdict model's reject
    CASE, shared by every domain. -#}

{#- An amount whose magnitude does not fit the mart's numeric type. -#}
{% macro reject_when_too_large(relation, columns, limit='1e14', type='NUMERIC(18,4)') -%}
    {%- for column in columns %}
            when abs({{ relation }}.{{ adapter.quote(column) }}) >= {{ limit }}
                then array[{{ "'" ~ column ~ "'" }}, {{ relation }}.{{ adapter.quote(column) }}::text, 'amount too large for {{ type }}']
    {%- endfor %}
{%- endmacro %}

{#- A text longer than its column; `widths` maps column → width. -#}
{% macro reject_when_longer(relation, widths) -%}
    {%- for column, width in widths.items() %}
            when length({{ relation }}.{{ adapter.quote(column) }}) > {{ width }}
                then array[{{ "'" ~ column ~ "'" }}, {{ relation }}.{{ adapter.quote(column) }}, 'longer than {{ width }} characters']
    {%- endfor %}
            when length({{ relation }}.resolved_company_id) > 50
                then array['company_id', {{ relation }}.resolved_company_id, 'longer than 50 characters']
{%- endmacro %}
