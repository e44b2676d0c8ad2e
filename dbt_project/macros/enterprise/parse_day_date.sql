{#- enrichment.md §2.4 "dates via the Chinese date parser", to the day:
    `2020年1月5日`, `2020-01-05`, `2020/1/5`, `20200105` (full-width digits too; a time
    of day after the date, as in `2020-01-05 10:30:00` or `2020-01-05T10:30:00Z`, is
    dropped) → DATE; blank, `-` and the other unstated values → NULL; any other text
    (a month without a day included) → NULL, reported by _cleansing_status. Only
    day-precision shapes are admitted, then parse_month_date (macros/cleansing) reads them,
    so the calendar check is the one the workbooks use. -#}
{% macro parse_day_date(text_expr) -%}
    (select
        case
            when shaped.t ~ '^[0-9]{8}$'
                or shaped.t ~ '^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}$'
                or shaped.t ~ '^[0-9]{4}年[0-9]{1,2}月[0-9]{1,2}日?$'
                then {{ parse_month_date('shaped.t') }}
        end
     from (
        select regexp_replace(
            replace(normalize(btrim({{ text_expr }}), nfkc), '/', '-'),
            '(T|[[:space:]]+)[0-9]{1,2}:[0-9]{2}(:[0-9]{2}([.][0-9]+)?)?(Z|[+-][0-9]{2}(:?[0-9]{2})?)?$',
            ''
        ) as t
     ) as shaped)
{%- endmacro %}
