{#- §0.3 date parsing. Returns a date for every accepted shape, whatever the year;
    callers check the 2000–2030 range and "not in the future" so that such rows are
    reported rather than silently dropped.
    Accepted beyond the original (decision in docs/business-rules.md): Excel serial
    numbers (5 digits, epoch 1899-12-30), `YYYY/MM`, and `YYYY-MM-DD 00:00:00` (how the
    reader renders an Excel date cell). -#}

{% macro parse_month_date(expr) -%}
    case
        -- fast path for the usual shape, a plain YYYYMM
        when ({{ expr }})::text ~ '^[0-9]{4}(0[1-9]|1[0-2])$' then to_date(({{ expr }})::text, 'YYYYMM')
        else (select
        case
            when parts.y between 1 and 9999 and parts.m between 1 and 12 then
                case
                    when parts.d between 1 and extract(day from make_date(parts.y, parts.m, 1) + interval '1 month' - interval '1 day')
                        then make_date(parts.y, parts.m, parts.d)
                end
        end
     from (
        select
            case
                when length(month_match.g[1]) = 2
                    then (case when month_match.g[1]::int < 50 then 2000 else 1900 end) + month_match.g[1]::int
                else month_match.g[1]::int
            end as y,
            month_match.g[2]::int as m,
            coalesce(month_match.g[3]::int, 1) as d
        from (
            select {{ month_parts('cleaned.t') }} as g
            from (select normalize(btrim(({{ expr }})::text), nfkc) as t limit all offset 0) as cleaned
            limit all offset 0  -- never pulled up: g is named five times below, and each would be
        ) as month_match  -- the whole regular-expression cascade again
        limit all offset 0
     ) as parts)
    end
{%- endmacro %}

{#- text[] of (year, month, day-or-null) for an accepted shape, else null. -#}
{% macro month_parts(t) -%}
    case
        when {{ t }} ~ '^[0-9]{6}$' then array[substr({{ t }}, 1, 4), substr({{ t }}, 5, 2), null]
        when {{ t }} ~ '^[0-9]{8}$' then array[substr({{ t }}, 1, 4), substr({{ t }}, 5, 2), substr({{ t }}, 7, 2)]
        when {{ t }} ~ '^[0-9]{4}-[0-9]{1,2}(-[0-9]{1,2}( 00:00:00)?)?$'
            then regexp_match({{ t }}, '^([0-9]{4})-([0-9]{1,2})(?:-([0-9]{1,2}))?')
        when {{ t }} ~ '^[0-9]{4}/[0-9]{1,2}$' then regexp_match({{ t }}, '^([0-9]{4})/([0-9]{1,2})$')
        when {{ t }} ~ '^([0-9]{2}|[0-9]{4})年[0-9]{1,2}月([0-9]{1,2}日?)?$'
            then regexp_match({{ t }}, '^([0-9]{2}|[0-9]{4})年([0-9]{1,2})月(?:([0-9]{1,2})日?)?$')
        when {{ t }} ~ '^[0-9]{5}$'
            then string_to_array(to_char(date '1899-12-30' + {{ t }}::int, 'YYYY-MM-DD'), '-')
    end
{%- endmacro %}

{#- The business range every parsed date must lie in (spec: year 2000–2030, not in the future). -#}
{% macro date_out_of_range(date_expr, allow_future=false) -%}
    ({{ date_expr }} is not null and (
        extract(year from {{ date_expr }}) not between 2000 and 2030
        {%- if not allow_future %}
        or {{ date_expr }} > current_date
        {%- endif %}
    ))
{%- endmacro %}

{#- §3.2 step 5: a ledger's event date (中标日期 / 流失日期) by §0.3; NULL when it falls
    outside 2000–2030 (a date in the future is kept: a mandate may start next month). -#}
{% macro parse_event_date(column) -%}
    case
        when not {{ date_out_of_range(parse_month_date(column), allow_future=true) }}
            then {{ parse_month_date(column) }}
    end
{%- endmacro %}
