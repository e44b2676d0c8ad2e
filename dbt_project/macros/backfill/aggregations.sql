{#- The aggregations of the reference back-fill (enrichment.md §4.1), over the rows of one
    key group. "Input order" is the rows' order in the workbook: file, sheet, Excel row.
    Blank text counts as NULL. -#}

{% macro input_order() -%}
    _source_file asc, _source_sheet asc, _source_row asc
{%- endmacro %}

{#- `first`: the first non-null value in input order. -#}
{% macro backfill_first(column) -%}
    (array_agg(nullif(btrim({{ column }}::text), '') order by {{ input_order() }})
        filter (where nullif(btrim({{ column }}::text), '') is not null))[1]
{%- endmacro %}

{#- `max_by(order)`: the value of the row with the largest numeric `order` (ties: the first
    in input order); when no row has one, `first`. -#}
{% macro backfill_max_by(column, order) -%}
    case
        when count({{ order }}) > 0
            then (array_agg(nullif(btrim({{ column }}::text), '') order by {{ order }} desc, {{ input_order() }})
                filter (where {{ order }} is not null))[1]
        else {{ backfill_first(column) }}
    end
{%- endmacro %}

{#- `concat_distinct(sep)`: the distinct non-null values sorted by code point, joined by
    `sep`; NULL when there are none. -#}
{% macro backfill_concat_distinct(column, separator) -%}
    {%- set value = "(nullif(btrim(" ~ column ~ "::text), '') collate \"C\")" -%}
    string_agg(distinct {{ value }}, '{{ separator }}' order by {{ value }})
{%- endmacro %}

{#- `count_distinct`: how many distinct non-blank values. -#}
{% macro backfill_count_distinct(column) -%}
    count(distinct nullif(btrim({{ column }}::text), ''))::integer
{%- endmacro %}
