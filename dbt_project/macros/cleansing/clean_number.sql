{#- §0.4 numeric cleaning, split in two so each step is computed once per cell:
    number_text() does steps 1–3 (placeholders, currency, separators) and yields text;
    text_to_number() does steps 4–6 (percent, rate rule, parse, quantise) on that text. -#}

{% macro number_text(expr) -%}
    case
        when {{ expr }} is null then null
        when {{ expr }} ~ '^-?[0-9]+([.][0-9]+)?$' then {{ expr }}  -- the usual cell: nothing to clean
        when btrim({{ expr }}) in ('', '-', 'N/A', '无', '暂无', 'null', 'NULL', 'None')
            or lower(btrim({{ expr }})) in ('', '-', '无', '暂无', 'null')
            then null
        else regexp_replace(normalize(btrim({{ expr }}), nfkc), '[¥$€£₽,[:space:]]', '', 'g')
    end
{%- endmacro %}

{% macro is_number_text(text_expr) -%}
    ({{ text_expr }} ~ '^[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]+)?%?$')
{%- endmacro %}

{#- `is_number`: the cell's `<column>__is_number` from select_number_texts(), which spares
    the regular expression here; without it the text is checked again. -#}
{% macro text_to_number(text_expr, scale=4, is_rate=false, is_number=none) -%}
    case
        when {{ is_number or is_number_text(text_expr) }} then round(
            case
                when right({{ text_expr }}, 1) = '%' then left({{ text_expr }}, -1)::numeric / 100
                {%- if is_rate %}
                when abs({{ text_expr }}::numeric) > 1 then {{ text_expr }}::numeric / 100
                {%- endif %}
                else {{ text_expr }}::numeric
            end,
            {{ scale }}
        )
    end
{%- endmacro %}

{#- The first of `columns` whose cell is not a number (§0.4 step 5): its name
    (part='column') or its raw text (part='value'). Expects `<column>__text` and
    `<column>__is_number` from select_number_texts() beside each raw column. -#}
{% macro first_invalid_number(columns, part) -%}
    coalesce(
        {%- for column in columns %}
        case
            when not {{ adapter.quote(column ~ '__is_number') }}
                then {{ ("'" ~ column ~ "'") if part == 'column' else adapter.quote(column) }}
        end{{ "," if not loop.last }}
        {%- endfor %}
    )
{%- endmacro %}

{#- The `number_texts` CTE body of a staging model: every column of `relation` plus, for
    each numeric column, number_text() as `<column>__text` and whether that text is a
    number as `<column>__is_number` (null for an empty cell): each regular expression
    runs once per cell. -#}
{% macro select_number_texts(relation, columns) -%}
    select
        texts.*,
        {%- for column in columns %}
        {{ is_number_text(adapter.quote(column ~ '__text')) }} as {{ adapter.quote(column ~ '__is_number') }}{{ "," if not loop.last }}
        {%- endfor %}
    from (
        select
            {{ relation }}.*,
            {%- for column in columns %}
            {{ number_text(relation ~ '.' ~ adapter.quote(column)) }} as {{ adapter.quote(column ~ '__text') }}{{ "," if not loop.last }}
            {%- endfor %}
        from {{ relation }}
        offset 0  -- the texts once, then their checks
    ) as texts
{%- endmacro %}

{#- §3.2 step 13: a whole-number flag such as 考核有效: '1', '0', '1.0' → 1, 0, 1; any
    other text NULL (the mart publishes NULL as 0). -#}
{% macro parse_flag(column) -%}
    case when btrim({{ column }}) ~ '^-?[0-9]+([.]0+)?$' then btrim({{ column }})::numeric::integer end
{%- endmacro %}
