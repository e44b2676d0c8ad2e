{#- Text of the lookup service's payloads (enrichment.md §2.4 "trim"): every text is
    trimmed (spaces, tabs, line breaks, no-break and ideographic spaces); empty → NULL. -#}

{% macro clean_text(expr) -%}
    nullif(btrim({{ expr }}, E' \t\n\r\u00a0\u3000'), '')
{%- endmacro %}

{#- The first of `keys` whose value in the jsonb object `payload` is a non-empty text
    (numbers as their text): the original read each field under several spellings
    (`registerCaptial`, `reg_cap`, …). -#}
{% macro payload_text(payload, keys) -%}
    coalesce(
        {%- for key in keys %}
        {{ clean_text(payload ~ " ->> '" ~ key ~ "'") }}{{ "," if not loop.last }}
        {%- endfor %}
    )
{%- endmacro %}

{#- True for a value the service uses for "not stated" (after clean_text): it cleanses to
    NULL without counting as a failure in _cleansing_status. -#}
{% macro is_unstated(text_expr) -%}
    ({{ text_expr }} is null
        or lower({{ text_expr }}) in ('-', '--', '—', '无', '暂无', 'null', 'none', 'n/a', '企业选择不公示'))
{%- endmacro %}
